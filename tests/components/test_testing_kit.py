"""The testing kit (llmplatform.testing) itself, as a consumer's test suite meets it: runs after a failed one."""
import gc
import logging

import pulumi
import pulumi_kubernetes as k8s
import pytest

import llmplatform

from llmplatform.testing import ProgramError, Secret, run


def _failing_inside_the_sdk() -> None:
    provider = k8s.Provider("k8s", kubeconfig="apiVersion: v1\nkind: Config\n")
    opts = pulumi.ResourceOptions(provider=provider)
    # a value of the wrong type: the SDK's own output typing fails the registration (AssertionError in do_register)
    k8s.core.v1.Secret("token", metadata={"name": "token"}, string_data={"token": {"nested": "x"}}, opts=opts)
    for i in range(5):
        k8s.core.v1.ConfigMap(f"config-{i}", metadata={"name": f"config-{i}"}, data={"a": "b"}, opts=opts)


def _fine() -> None:
    provider = k8s.Provider("k8s", kubeconfig="apiVersion: v1\nkind: Config\n")
    k8s.core.v1.ConfigMap("config", metadata={"name": "config"}, data={"a": "b"},
                          opts=pulumi.ResourceOptions(provider=provider))


def test_a_run_that_fails_inside_the_sdk_raises_once_and_leaves_no_noise_for_the_next(caplog):
    """The error is raised to the caller once; the same error left on the futures of the resource's outputs was
    printed again by asyncio ("Future exception was never retrieved", with a traceback) for each of them when they
    were collected, in the middle of later tests."""
    caplog.set_level(logging.ERROR, logger="asyncio")
    # what earlier tests left in this process is set aside (the suite's collector is off: tests/conftest.py), so the
    # collection below walks only these two runs' objects: over a worker's whole heap it cost 3-7 s of CPU
    gc.freeze()
    with pytest.raises(AssertionError, match="string_data.token"):
        run(_failing_inside_the_sdk)
    assert len(run(_fine).resources) == 2  # the next run in the process is unaffected
    gc.collect()
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def test_the_mocks_answer_in_call_order_so_two_runs_of_a_program_are_one_plan(monkeypatch):
    """The SDK hands each monitor call to the loop's executor; from a thread pool the answers came back in the order
    the threads finished, so writes queued in the order their inputs resolve (a vault's secrets) were chained
    differently run to run (llm-d's plan took three orders in five runs). The kit's executor answers one call at a
    time and hands the loop a finished future, in call order."""
    import threading
    import time

    import llmplatform.testing as kit
    calls: list[str] = []
    answer = kit.OfflineMocks.new_resource

    def recording(self, args):
        calls.append((args.name, threading.current_thread()))
        time.sleep(0.01 if args.name == "config" else 0)  # a slow answer is still the first one the loop gets
        return answer(self, args)
    monkeypatch.setattr(kit.OfflineMocks, "new_resource", recording)
    plan = run(_fine)
    # answered in the run's own thread: no hand-off to a worker thread and its own loop per call
    assert calls == [("k8s", threading.current_thread()), ("config", threading.current_thread())]
    assert len(plan.resources) == 2

    executor = kit.runner._OneCallAtATime()
    try:
        with kit.runner._sdk_swapped():
            slow = executor.submit(time.sleep, 0.05)
            assert slow.done()  # finished when submit returns: the loop gets answers in the order it asked
            assert executor.submit(threading.current_thread).result() is threading.current_thread()
        # an SDK whose mock monitor awaits otherwise (nothing swapped in): the executor's one thread, still in order
        slow = executor.submit(time.sleep, 0.05)
        assert slow.done()
        assert executor.submit(threading.current_thread).result() is not threading.current_thread()
    finally:
        executor.shutdown(wait=True)


def test_without_the_monitor_swap_a_run_answers_from_the_executors_thread_and_plans_the_same(monkeypatch):
    """An SDK whose mock monitor has no `_sync_await` to swap (renamed upstream) keeps the thread: the same plan, and
    many resources at once still plan (the SDK's `_sync_await` never runs in the loop's own thread)."""
    import llmplatform.testing as kit
    first = sorted((r.urn, r.dependencies, r.inputs) for r in run(_fine).resources)
    monkeypatch.setattr(kit.runner, "_SDK_SWAPS", tuple(s for s in kit.runner._SDK_SWAPS if s[1] != "_sync_await"))
    assert sorted((r.urn, r.dependencies, r.inputs) for r in run(_fine).resources) == first
    assert len(run(_many_at_once).resources) == 301


def test_a_monitor_await_that_waits_is_left_to_the_sdk_and_one_that_does_not_never_turns_the_loop():
    """`_complete_now` runs the monitor's serialization to its end without the loop; an await that would wait (a
    value still to come) is resumed by the SDK's `_sync_await`, which turns the running loop until it arrives."""
    import asyncio

    from llmplatform.testing.runner import _complete_now

    async def program() -> tuple[int, list[str], int, list[str]]:
        loop = asyncio.get_running_loop()
        turned: list[str] = []
        loop.call_soon(turned.append, "turned")

        async def plain() -> int:
            return 41
        at_once = _complete_now(plain())
        before = list(turned)  # nothing else ran: the loop was not turned
        later = loop.create_future()
        loop.call_soon(later.set_result, 1)

        async def waits() -> int:
            await asyncio.sleep(0)
            return await later + 1
        return at_once, before, _complete_now(waits()), turned
    assert asyncio.run(program()) == (41, [], 2, ["turned"])


def _many_at_once() -> None:
    provider = k8s.Provider("k8s", kubeconfig="apiVersion: v1\nkind: Config\n")
    for i in range(300):
        k8s.core.v1.ConfigMap(f"config-{i}", metadata={"name": f"config-{i}", "namespace": "team"},
                              data={"a": "b"}, opts=pulumi.ResourceOptions(provider=provider))


def test_a_program_creating_many_resources_at_once_plans():
    """Answered in the loop's own thread, the SDK mock monitor's `_sync_await` pumped the loop from inside each call,
    one level deeper per resource registering at the same time: 71 sibling resources stopped with a RecursionError."""
    assert len(run(_many_at_once).resources) == 301


def _referring(count: int) -> None:
    provider = k8s.Provider("k8s", kubeconfig="apiVersion: v1\nkind: Config\n")
    opts = pulumi.ResourceOptions(provider=provider)
    config = k8s.core.v1.ConfigMap("config", metadata={"name": "config"}, data={"a": "b"}, opts=opts)
    for i in range(count):
        k8s.apiextensions.CustomResource(f"ref-{i}", api_version="acme.io/v1", kind="Ref",
                                         metadata={"name": f"ref-{i}"}, spec={"of": config}, opts=opts)


@pytest.mark.parametrize("in_thread", [True, False])
def test_a_resource_given_as_an_input_goes_to_the_mocks_as_a_reference_and_many_such_plan(monkeypatch, in_thread):
    """A Resource as an input goes to the monitor as a resource reference. The SDK's mock monitor rebuilt it as a
    Resource (pulumi 3.272.0 `runtime/rpc.py` `deserialize_resource`) whose URN comes later: its answer then waited,
    in the loop's thread by turning the loop from inside the call, one level deeper per such registration (100 of
    them stopped with a RecursionError), on the executor's thread for ever (the run hung). A provider behind the
    engine gets the reference itself: so do the mocks and the plan, and the answer hands it back as sent."""
    import signal

    import llmplatform.testing as kit
    from pulumi.runtime import rpc
    rebuild = rpc.deserialize_resource
    if not in_thread:
        monkeypatch.setattr(kit.runner, "_SDK_SWAPS", tuple(s for s in kit.runner._SDK_SWAPS if s[1] != "_sync_await"))

    def waited(*_: object) -> None:
        raise TimeoutError("the run hung")
    previous = signal.signal(signal.SIGALRM, waited)
    signal.alarm(30)
    try:
        plan = run(lambda: _referring(100))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    config = next(r.urn for r in plan.resources if r.name == "config")
    refs = [r.inputs["spec"]["of"] for r in plan.resources if r.type == "kubernetes:acme.io/v1:Ref"]
    assert len(refs) == 100 and all(ref["urn"] == config and ref["id"] == "config-id" for ref in refs), refs[:1]
    assert rpc.deserialize_resource is rebuild  # the SDK's again after the run


def test_a_whole_stack_plans_the_same_twice():
    from offline import runner
    from tests.conftest import variant
    # registration order may differ inside one process (the SDK awaits sets of resources, ordered by address);
    # what each resource waits for may not
    first = sorted((r.urn, r.dependencies) for r in variant("llmd").resources)
    again = sorted((r.urn, r.dependencies) for r in runner.run("llmd", {}).resources)
    assert again == first


def test_a_task_the_program_never_awaited_is_still_reported_after_a_run_that_succeeded(caplog):
    """The noise dropped after a failed run is, after a run that succeeded, the only sign of a failure: a task the
    program started and never awaited failed (asyncio reports it, as under `pulumi up`)."""
    import asyncio

    caplog.set_level(logging.ERROR, logger="asyncio")
    gc.freeze()  # the collection below walks this run's objects only (see the test above)

    def program() -> None:
        async def lost() -> None:
            raise ValueError("a task nobody awaited failed")
        asyncio.ensure_future(lost())
        _fine()
    assert len(run(program).resources) == 2
    gc.collect()
    [report] = [r.getMessage() for r in caplog.records if r.name == "asyncio"]
    assert report.startswith("Task exception was never retrieved") and "a task nobody awaited failed" in report


def test_what_a_failed_run_left_running_is_cancelled_not_left_on_a_closed_loop():
    """A run stopped by an error leaves the program's other work pending (tasks the SDK or the program started):
    each is cancelled before the run's loop closes, the SDK's tasks as the program's own."""
    import asyncio

    started: list[asyncio.Task] = []

    def program() -> None:
        _fine()
        started.append(asyncio.ensure_future(asyncio.Event().wait()))  # work that never ends by itself
        started.extend(asyncio.all_tasks())  # and whatever the SDK has in flight at this point
        raise pulumi.RunError("stopped")
    with pytest.raises(Exception, match="stopped"):
        run(program)
    assert len(started) > 1 and all(task.done() for task in started)
    assert started[0].cancelled()
    assert len(run(_fine).resources) == 2


@pytest.mark.parametrize("key", ["acme/infra/prod", "prod"])
def test_a_stack_reference_is_answered_under_the_name_the_program_writes_or_its_stack_name(key):
    """`pulumi.StackReference("acme/infra/prod")` is how a program names another stack: references keyed by that
    name were refused ("no offline plan of stack 'prod'"), only the bare stack name worked."""
    def program() -> None:
        pulumi.export("cluster", pulumi.StackReference("acme/infra/prod").get_output("cluster"))
    assert run(program, references={key: {"cluster": "aks-1"}}).outputs == {"cluster": "aks-1"}


def test_a_stack_reference_nobody_answers_is_named_with_the_keys_that_would():
    def program() -> None:
        pulumi.StackReference("acme/infra/prod")
    with pytest.raises(Exception, match=r"StackReference 'acme/infra/prod': no outputs of that stack given to read "
                                        r"\(references keys them by 'acme/infra/prod' or 'prod'; given: staging\)"):
        run(program, references={"staging": {}})


def test_a_referenced_output_the_stack_lacks_is_one_line_naming_the_reference_and_what_it_has():
    """pulumi 3.272.0 `stack_reference.py` `require_output` indexes the outputs inside an apply: a name the stack
    lacks raised a bare KeyError out of `run` (the real engine prints it as "Program failed with an unhandled
    exception" with the traceback, pulumi/pulumi `sdk/python/cmd/pulumi-language-python-exec`). The kit names the
    reference, the output and the outputs the stack has (names only: a secret's value stays unshown); get_output of
    such a name is None, as in the SDK, and a name the stack has is read as before."""
    def program(name: str) -> None:
        ref = pulumi.StackReference("acme/infra/prod")
        pulumi.export("wanted", ref.require_output(name))
        pulumi.export("maybe", ref.get_output("nothing"))
    references = {"prod": {"cluster": "aks-1", "kubeconfig": Secret("apiVersion: v1")}}
    with pytest.raises(ProgramError) as refused:
        run(lambda: program("clustr"), references=references)
    assert str(refused.value) == ("StackReference 'acme/infra/prod': require_output('clustr'): that stack has no "
                                  "output of that name (its outputs: cluster, kubeconfig)")
    plan = run(lambda: program("kubeconfig"), references=references)
    assert (plan.outputs, plan.secret_outputs) == ({"wanted": "apiVersion: v1", "maybe": None}, ["wanted"])


def _secrecy(ref: pulumi.StackReference, name: str) -> dict[str, pulumi.Output]:
    return {f"{name}-get": ref.get_output(name), f"{name}-require": ref.require_output(name),
            f"{name}-outputs": ref.outputs[name]}


def test_a_referenced_secret_output_reads_secret_as_the_engine_answers():
    """The engine's StackReference keeps the other stack's secret outputs secret and names them in secretOutputNames
    (pulumi/pulumi pkg/resource/deploy/builtins.go readStackReference); the SDK makes get_output/require_output of
    such a name secret, and `outputs` secret whole when any is. The stand-in answered every output plain."""
    def program() -> None:
        ref = pulumi.StackReference("acme/infra/prod")
        for key, value in {**_secrecy(ref, "kubeconfig"), "cluster-get": ref.get_output("cluster"),
                           "cluster-outputs": ref.outputs["cluster"]}.items():
            pulumi.export(key, value)
    plan = run(program, references={"prod": {"kubeconfig": Secret("apiVersion: v1"), "cluster": "aks-1"}})
    assert plan.outputs["kubeconfig-get"] == plan.outputs["kubeconfig-outputs"] == "apiVersion: v1"
    assert plan.secret_outputs == ["kubeconfig-get", "kubeconfig-require", "kubeconfig-outputs", "cluster-outputs"]
    plain = run(program, references={"prod": {"kubeconfig": "apiVersion: v1", "cluster": "aks-1"}})
    assert plain.secret_outputs == []  # a plain dict value stays plain


def test_a_referenced_plans_secret_outputs_read_secret_and_a_secret_inside_an_output_makes_it_secret():
    """A Plan as the reference (offline/runner.py hands the global stack its regions' plans): its secret_outputs are
    secret; a Secret inside an output makes the output secret (the engine lists a name whose value HasSecrets)."""
    def infra() -> None:
        pulumi.export("kubeconfig", pulumi.Output.secret("apiVersion: v1"))
        pulumi.export("cluster", "aks-1")
    infra_plan = run(infra)

    def program() -> None:
        ref = pulumi.StackReference("infra")
        for key, value in {**_secrecy(ref, "kubeconfig"), "cluster": ref.get_output("cluster")}.items():
            pulumi.export(key, value)
        pulumi.export("other", pulumi.StackReference("other").get_output("handle"))
    plan = run(program, references={"infra": infra_plan, "other": {"handle": {"name": "c", "kube": Secret("k")}}})
    assert plan.secret_outputs == ["kubeconfig-get", "kubeconfig-require", "kubeconfig-outputs", "other"]
    assert plan.outputs["other"] == {"name": "c", "kube": "k"}


def test_a_referenced_secret_keeps_its_value_out_of_a_refusal_and_secret_in_the_resources():
    """What secrecy changes for a program under the kit: a component's refusal of a referenced secret showed its
    value (a registry URL with its password, in the console and CI logs), and the resources it reached recorded it
    plain (plan files not redacted), where a real run's value is secret."""
    from tests.components.test_components_alone import REQUIRED, cluster_handle, provider_opts
    registry = "https://user:hunter2@mirror.example.com/"

    def pool() -> None:
        cluster = {**cluster_handle(), "image_registry": pulumi.StackReference("infra").get_output("registry")}
        llmplatform.GpuNodePool("late", {**REQUIRED["GpuNodePool"](), "cluster": cluster}, provider_opts())
    with pytest.raises(ProgramError) as refused:
        run(pool, references={"infra": {"registry": Secret(registry)}})
    assert str(refused.value) == ("GpuNodePool late: cluster.image_registry: a secret (its value is not shown) is "
                                  "invalid; allowed: a registry host without a scheme")

    def monitoring() -> None:
        owner = pulumi.StackReference("infra").get_output("owner")
        llmplatform.AzureMonitoring("mon", {**REQUIRED["AzureMonitoring"](), "name_prefix": "mon",
                                            "tags": {"owner": owner}})
    workspace = run(monitoring, references={"infra": {"owner": Secret("team-a")}}).one(
        "azure-native:operationalinsights:Workspace")
    assert workspace.inputs["tags"]["owner"] == "team-a" and "tags.owner" in workspace.secret_paths


def test_the_sdk_work_the_mocks_skip_is_the_sdks_and_is_back_after_every_run():
    """The kit skips two computations of the SDK the mock monitor never reads, the stack walk at each registration
    and every alias's URN at each construction: each must still be the SDK's to skip (an SDK that renamed one would
    make every run silently slower again), the SDK must take an empty trace as no source position, and the process
    gets both back after a run, a failed one too."""
    from pulumi import resource as sdk_resource
    from pulumi.runtime import resource as sdk
    from pulumi.runtime.proto import source_pb2
    walk, alias_urn = sdk._get_stack_trace, sdk_resource.collapse_alias_to_urn
    assert alias_urn is sdk.collapse_alias_to_urn  # the function Resource.__init__ calls, as the SDK imports it
    assert sdk._get_source_position(source_pb2.StackTrace()) is None
    seen = []

    def program() -> None:
        seen.append((sdk._get_stack_trace, sdk_resource.collapse_alias_to_urn))
        k8s.core.v1.Namespace("ns")
    assert len(run(program).resources) == 1
    with pytest.raises(ProgramError, match="ns"):  # one URN twice
        run(lambda: (seen.append((sdk._get_stack_trace, sdk_resource.collapse_alias_to_urn)),
                     k8s.core.v1.Namespace("ns"), k8s.core.v1.Namespace("ns")))
    assert all(pair[0] is not walk and pair[1] is not alias_urn for pair in seen), seen
    assert sdk._get_stack_trace is walk and sdk_resource.collapse_alias_to_urn is alias_urn


def test_skipping_the_alias_urns_changes_nothing_the_monitor_receives(monkeypatch):
    """The alias URNs the kit skips are the SDK's `_aliases`, which only a monitor without alias specs reads: with
    and without the skip, a program of aliased parents and children (renamed, reparented, an azure-native resource
    with its API versions' type aliases, a child inheriting its parent's) sends every registration the same aliases
    and the same inputs, and the mock monitor says it takes alias specs (else the SDK would read `_aliases`)."""
    import contextlib
    import pulumi_azure_native as azure
    from google.protobuf import json_format
    from llmplatform import testing as kit

    from pulumi.runtime.proto import resource_pb2
    monitor = kit.RecordingMonitor.__new__(kit.RecordingMonitor)
    features = monitor.GetDeploymentInfo(None).supportedFeatures  # what the SDK reads at a run's start
    assert resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS in features
    sent: list[tuple[str, list[dict], dict]] = []
    register = kit.RecordingMonitor.RegisterResource

    def recording(self, request):
        sent.append((request.name, [json_format.MessageToDict(a) for a in request.aliases],
                     json_format.MessageToDict(request.object)))
        return register(self, request)
    monkeypatch.setattr(kit.RecordingMonitor, "RegisterResource", recording)

    def program() -> None:
        parent = pulumi.ComponentResource("acme:index:Platform", "platform", opts=pulumi.ResourceOptions(
            aliases=[pulumi.Alias(name="old-platform"), pulumi.Alias(type_="acme:index:OldPlatform")]))
        group = azure.resources.ResourceGroup("rg", opts=pulumi.ResourceOptions(
            parent=parent, aliases=[pulumi.Alias(name="old-rg")]))
        k8s.core.v1.Namespace("ns", opts=pulumi.ResourceOptions(parent=parent, aliases=[
            pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE), "urn:pulumi:test::test::kubernetes:core/v1:Namespace::x"]))
        azure.resources.ResourceGroup("plain", opts=pulumi.ResourceOptions(depends_on=[group]))
    run(program)
    skipped, sent[:] = list(sent), []
    monkeypatch.setattr(kit.runner, "_sdk_swapped", contextlib.nullcontext)
    run(program)
    assert sent == skipped and any(aliases for _, aliases, _ in sent)


# The SDK's callback server, whose shutdown the abandoned run never reached, raises "no running event loop" when
# collected (pulumi 3.272.0 runtime/_callbacks.py `shutdown`): after Ctrl-C the process is ending.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_ctrl_c_in_a_run_stops_it_at_once_without_noise_and_the_next_run_plans(caplog):
    """Ctrl-C (a KeyboardInterrupt in the middle of a step) abandons the run: its tasks are cancelled but not waited
    for (a task the interrupt cut short may never finish; waiting for it hung `make plan` on Ctrl-C — here one that
    will not end), the mocks' thread is not joined, and the tasks it leaves pending are not reported as "Task was
    destroyed but it is pending!" when they are freed. The kit plans the next program as usual."""
    import asyncio
    import signal

    async def never_ends(_: object) -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    def program() -> None:
        names = [k8s.core.v1.Namespace(f"ns{i}").urn for i in range(20)]
        names[0].apply(never_ends)

        def interrupt(_: object) -> None:
            raise KeyboardInterrupt
        pulumi.Output.all(*names[1:4]).apply(interrupt)

    def waited(*_: object) -> None:
        raise TimeoutError("the interrupted run was waited for")
    previous = signal.signal(signal.SIGALRM, waited)
    signal.alarm(20)
    try:
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            with pytest.raises(KeyboardInterrupt):
                run(program)
            gc.collect()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert len(run(lambda: k8s.core.v1.Namespace("after")).resources) == 1


def test_a_gpu_pool_named_as_the_clusters_inline_system_pool_is_one_pool_with_it():
    """AksCluster declares its system pool inline (the ManagedCluster's agentPoolProfiles); an AgentPool of the same
    name on that cluster is that pool (Azure names are case-insensitive): its PUT would rewrite the system pool, and
    the cluster's next update rewrite it back. The kit refuses it as it refuses two AgentPools of one name (here
    through a handle without `pool_names`, by which GpuNodePool itself refuses the name first)."""
    import llmplatform
    from tests.components.test_components_alone import REQUIRED

    def program() -> None:
        aks = llmplatform.AksCluster("aks", REQUIRED["AksCluster"]())
        handle = {key: value for key, value in aks.cluster.items() if key != "pool_names"}
        llmplatform.GpuNodePool("gpu", {"cluster": handle, "vm_size": "Standard_NC4as_T4_v3",
                                        "pool_name": "system"},
                                pulumi.ResourceOptions(providers=[aks.provider]))
    with pytest.raises(ProgramError, match=r"aks-aks \(its inline pool 'system'\) and gpu-system are one object: "
                                           r"azure-native:containerservice:AgentPool agentPoolName=system "
                                           r"resourceName=aks-a"):
        run(program)


def test_a_gpu_pool_of_another_name_beside_the_inline_system_pool_plans():
    import llmplatform
    from tests.components.test_components_alone import REQUIRED

    def program() -> None:
        aks = llmplatform.AksCluster("aks", REQUIRED["AksCluster"]())
        llmplatform.GpuNodePool("gpu", {"cluster": aks.cluster, "vm_size": "Standard_NC4as_T4_v3"},
                                pulumi.ResourceOptions(providers=[aks.provider]))
    assert len(run(program).of_type("azure-native:containerservice:AgentPool")) == 2


def _two_stacks_on_one_cluster(publish_second: bool) -> None:
    """Two InferenceStacks in two namespaces of one cluster, as docs/components/inference-stack.md allows, both
    given the cluster's one GatewayAccess route target unless `publish_second` is off."""
    import llmplatform
    from tests.components.test_components_alone import REQUIRED, VAULT

    aks = llmplatform.AksCluster("aks", REQUIRED["AksCluster"]())
    opts = pulumi.ResourceOptions(providers=[aks.provider])
    gateway = llmplatform.GatewayAccess("gw", {"cluster": aks.cluster, "external": False}, opts)
    for team in ("one", "two"):
        namespace = llmplatform.AppNamespace(team, {"namespace": team, "route_target": gateway.route_target}, opts)
        store = llmplatform.ModelStore(team, {"cluster": aks.cluster, "account_name": f"st{team}models",
                                              "namespace": namespace.namespace}, opts)
        args: llmplatform.InferenceStackArgs = {"cluster": aks.cluster, "key_vault": VAULT,
                                                "model_volume": store.volume, "database_url_secret": "db-url"}
        if team == "one" or publish_second:
            args["route_target"] = gateway.route_target
        llmplatform.InferenceStack(team, args, opts)


def test_two_stacks_published_on_one_gateway_listener_are_refused_as_shadowing_each_other():
    """The API server takes two HTTPRoutes matching the same path on one listener, and the Gateway API sends such a
    request to the older route only: the second stack's UI and API would get no request, silently."""
    with pytest.raises(ProgramError) as error:
        run(lambda: _two_stacks_on_one_cluster(publish_second=True))
    lines = [line.strip() for line in str(error.value).splitlines()[1:]]
    assert [line.split(" route the same")[0] for line in lines] == ["one-api-route and two-api-route",
                                                                    "one-ui-route and two-ui-route"]
    assert "PathPrefix / on listener api of Gateway gw-gateway/internal-gateway for every hostname" in lines[0]
    assert "HTTPRoutes one/api-route and two/api-route" in lines[0] and "leave the other's route_target out" in lines[0]


def test_two_stacks_one_of_them_published_plan():
    plan = run(lambda: _two_stacks_on_one_cluster(publish_second=False))
    routes = [r for r in plan.resources if r.inputs.get("kind") == "HTTPRoute"]
    assert sorted(r.name for r in routes) == ["one-api-route", "one-ui-route"]


def test_one_name_twice_is_told_as_such_without_write_order_advice_on_it():
    """Two GpuNodePool("gpu") on two clusters register one URN twice: the refusal says so, and adds no "chain them
    with dependsOn" lines about those resources (the engine's URN-keyed dependencies then pair writes that are not
    in conflict; renaming is the fix)."""
    import llmplatform
    from tests.components.test_components_alone import REQUIRED

    def program() -> None:
        for name in ("a", "b"):
            cluster = llmplatform.AksCluster(name, {**REQUIRED["AksCluster"](), "cluster_name": f"aks-{name}",
                                                    "resource_group_name": f"rg-{name}"})
            llmplatform.GpuNodePool("gpu", {**REQUIRED["GpuNodePool"](), "cluster": cluster.cluster},
                                    pulumi.ResourceOptions(providers=[cluster.provider]))
    with pytest.raises(ProgramError) as refused:
        run(program)
    assert "duplicate URN" in str(refused.value) and "dependsOn" not in str(refused.value), str(refused.value)


MONITORING = {"log_analytics_workspace_id": "/w/logs", "monitor_workspace_id": "/w/prom", "action_group_id": ""}


@pytest.mark.parametrize("component, extra, named", [
    ("GpuNodePool", {}, "gpu (GpuNodePool)"),
    ("OpenWebUi", {}, "gpu-open-webui-identity (WorkloadIdentity)"),
    # the public IP's role assignments name the cluster's identity
    ("GatewayAccess", {}, "gpu (GatewayAccess)"),
    # the data collection rule associations name the cluster
    ("Observability", {"monitoring": MONITORING}, "gpu (Observability)")])
def test_a_component_with_one_clusters_handle_and_anothers_provider_is_refused(component, extra, named):
    """In a loop over two clusters, cluster A's handle with B's provider planned: the GPU pools joined A and the
    device plugin went to B, where no GPU node ever comes; Open-WebUI's identity trusted A's OIDC issuer for a pod on
    B. The kit names the component and both clusters; the same component with one cluster's handle and provider
    plans."""
    import llmplatform
    from tests.components.test_components_alone import REQUIRED

    def program(provider_of: str) -> None:
        clusters = {name: llmplatform.AksCluster(name, {**REQUIRED["AksCluster"](), "cluster_name": f"aks-{name}",
                                                        "resource_group_name": f"rg-{name}"}) for name in "ab"}
        getattr(llmplatform, component)("gpu", {**REQUIRED[component](), **extra, "cluster": clusters["a"].cluster},
                                         pulumi.ResourceOptions(providers=[clusters[provider_of].provider]))
    with pytest.raises(ProgramError) as refused:
        run(lambda: program("b"))
    assert (f"{named} builds its Azure resources for cluster aks-a (its cluster handle: node pools, a workload "
            "identity's issuer) but sends its Kubernetes objects to cluster aks-b (its provider)"
            in str(refused.value)), str(refused.value)
    assert run(lambda: program("a")).resources


def test_the_plugins_skip_the_alias_urns_only_behind_a_monitor_that_takes_alias_specs():
    """The plugin processes the stand-in engine starts skip the same alias URNs (offline/plugin_site/sitecustomize.py):
    their monitor must list alias specs as the SDK reads it at start, and the skip must leave each alias as given."""
    import runpy
    from pulumi import resource as sdk_resource
    from pulumi.runtime.proto import resource_pb2
    from offline import plugin_host

    stub = plugin_host.MonitorStub("p", "s")
    assert resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS in stub.GetDeploymentInfo(None, None).supportedFeatures
    original, threshold = sdk_resource.collapse_alias_to_urn, gc.get_threshold()
    try:
        runpy.run_path(str(plugin_host.PLUGIN_SITE / "sitecustomize.py"))
        alias = pulumi.Alias(name="old")
        assert sdk_resource.collapse_alias_to_urn is not original
        assert sdk_resource.collapse_alias_to_urn(alias, "n", "t", None) is alias
    finally:
        sdk_resource.collapse_alias_to_urn = original
        gc.set_threshold(*threshold)  # the sitecustomize raised it for plugins; this process keeps its own


def test_two_cluster_scoped_objects_of_one_name_are_one_object_whatever_namespace_each_was_given():
    """The API server clears the namespace of a cluster-scoped object (k8s.io/apiserver rest.BeforeCreate): two
    PersistentVolumes (two teams' model stores) or ClusterRoles of one name given two namespaces are one object."""
    def program() -> None:
        cluster = k8s.Provider("k8s", kubeconfig="apiVersion: v1")
        for team in ("team-a", "team-b"):
            k8s.core.v1.PersistentVolume(
                f"{team}-pv", metadata=k8s.meta.v1.ObjectMetaArgs(name="models", namespace=team),
                spec=k8s.core.v1.PersistentVolumeSpecArgs(capacity={"storage": "1Gi"}, access_modes=["ReadWriteMany"],
                                                          csi=k8s.core.v1.CSIPersistentVolumeSourceArgs(
                                                              driver="file.csi.azure.com", volume_handle=team)),
                opts=pulumi.ResourceOptions(provider=cluster))
            k8s.rbac.v1.ClusterRole(f"{team}-role", metadata=k8s.meta.v1.ObjectMetaArgs(name="reader", namespace=team),
                                    opts=pulumi.ResourceOptions(provider=cluster))
    with pytest.raises(ProgramError) as error:
        run(program)
    assert "team-a-pv and team-b-pv are one object" in str(error.value)
    assert "team-a-role and team-b-role are one object" in str(error.value)


def test_namespaced_objects_of_one_name_in_two_namespaces_stay_two():
    def program() -> None:
        cluster = k8s.Provider("k8s", kubeconfig="apiVersion: v1")
        for team in ("team-a", "team-b"):
            k8s.core.v1.ConfigMap(f"{team}-cm", metadata=k8s.meta.v1.ObjectMetaArgs(name="settings", namespace=team),
                                  data={"a": "b"}, opts=pulumi.ResourceOptions(provider=cluster))
    assert len(run(program).of_type("kubernetes:core/v1:ConfigMap")) == 2


def test_a_clusters_fake_kubeconfig_names_its_own_region():
    """The kit's stand-ins answer what AKS would for the cluster's region: its kubeconfig's API server
    (`<name>.hcp.<region>`, by which the kit's messages name a cluster) and its OIDC issuer (which federated
    credentials trust); an eastus2 cluster read `westeurope` in both."""
    import llmplatform
    from tests.components.test_components_alone import REQUIRED
    issuers: list = []

    def program() -> None:
        aks = llmplatform.AksCluster("aks", {**REQUIRED["AksCluster"](), "location": "eastus2"})
        aks.oidc_issuer_url.apply(issuers.append)
    providers = run(program).of_type("pulumi:providers:kubernetes")
    assert providers and all("https://aks-a.hcp.eastus2.azmk8s.io:443" in str(p.inputs["kubeconfig"])
                             for p in providers)
    assert issuers and issuers[0].startswith("https://eastus2.oic.prod-aks.azure.com/")


def test_a_namespace_given_no_metadata_is_named_as_the_provider_names_it():
    """`k8s.core.v1.Namespace("x")` with no metadata: the provider names it, and `ns.metadata.name` is readable
    (the kit's stand-in returned no metadata, and the program stopped on it)."""
    names: list = []

    def program() -> None:
        namespace = k8s.core.v1.Namespace("team")
        namespace.metadata.apply(lambda m: names.append(m.name))
    run(program)
    assert names and names[0].startswith("team")


def test_a_cluster_scoped_custom_resource_given_a_namespace_is_one_object_and_goes_into_no_namespace():
    """The Network Operator's NicClusterPolicy (and the GPU Operator's ClusterPolicy) are `scope: Cluster` in their
    vendored CRDs: the API server drops a namespace given to one. Two of one name are one object, and neither is
    advised to need a namespace that nothing creates (both were missed: the kinds were read as namespaced)."""
    def program(second: bool) -> None:
        cluster = k8s.Provider("k8s", kubeconfig="apiVersion: v1")
        for team in ("team-a", "team-b")[:2 if second else 1]:
            k8s.apiextensions.CustomResource(
                f"{team}-nic", api_version="mellanox.com/v1alpha1", kind="NicClusterPolicy",
                metadata={"name": "nic-cluster-policy", "namespace": team}, spec={},
                opts=pulumi.ResourceOptions(provider=cluster))
    assert [w for w in run(lambda: program(False)).warnings if w.startswith("namespace ")] == []
    with pytest.raises(ProgramError, match="team-a-nic and team-b-nic are one object"):
        run(lambda: program(True))


@pytest.mark.parametrize("creator", ["unnamed-namespace", "config-group-objs", "config-group-yaml", "config-file"])
def test_a_namespace_the_program_creates_without_a_namespace_object_of_that_name_draws_no_advice(creator, tmp_path):
    """A Namespace left unnamed (its name the provider's, read back through `ns.metadata.name`) and the Namespace
    objects of a yaml/v2 ConfigGroup or ConfigFile create the namespace as well: the kit advised that nothing did."""
    manifest = tmp_path / "team.yaml"
    manifest.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n")
    document = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}

    def program() -> None:
        if creator == "unnamed-namespace":
            made: pulumi.Resource = k8s.core.v1.Namespace("team",
                                                          metadata=k8s.meta.v1.ObjectMetaArgs(labels={"a": "b"}))
            namespace = made.metadata.name  # type: ignore[attr-defined]
        else:
            made = (k8s.yaml.v2.ConfigFile("team", file=str(manifest)) if creator == "config-file" else
                    k8s.yaml.v2.ConfigGroup("team", objs=[document]) if creator == "config-group-objs" else
                    k8s.yaml.v2.ConfigGroup("team", yaml=manifest.read_text()))
            namespace = "team"
        k8s.core.v1.ConfigMap("settings", metadata=k8s.meta.v1.ObjectMetaArgs(name="settings", namespace=namespace),
                              data={"a": "b"}, opts=pulumi.ResourceOptions(depends_on=[made]))
    plan = run(program)
    assert plan.of_type("kubernetes:core/v1:ConfigMap")[0].inputs["metadata"]["namespace"] == "team"
    assert [w for w in plan.warnings if w.startswith("namespace ")] == []


def test_the_namespace_advice_names_each_cluster_of_a_namespace_missing_on_two_and_one_object_in_the_singular():
    def program() -> None:
        for region in ("westeurope", "eastus2"):
            cluster = k8s.Provider(region, kubeconfig=f"clusters: [{{cluster: {{server: 'https://{region}'}}}}]")
            k8s.core.v1.ConfigMap(f"{region}-cm", metadata=k8s.meta.v1.ObjectMetaArgs(name="c", namespace="team"),
                                  data={"a": "b"}, opts=pulumi.ResourceOptions(provider=cluster))
        k8s.core.v1.ConfigMap("solo", metadata=k8s.meta.v1.ObjectMetaArgs(name="c", namespace="solo"),
                              data={"a": "b"})
    advice = sorted(w.split(", and nothing")[0] for w in run(program).warnings if w.startswith("namespace "))
    assert advice == ["namespace solo: solo goes there",
                      "namespace team on cluster https://eastus2: eastus2-cm goes there",
                      "namespace team on cluster https://westeurope: westeurope-cm goes there"]


@pytest.mark.parametrize("azure_policy", [True, False])
def test_gatekeepers_namespace_exists_on_a_cluster_with_the_azure_policy_add_on(azure_policy):
    """AKS creates `gatekeeper-system` with the Azure Policy add-on (Gatekeeper's pods run there): an object put there
    is advised against only on a cluster without the add-on."""
    import llmplatform
    from tests.components.test_components_alone import REQUIRED

    def program() -> None:
        aks = llmplatform.AksCluster("aks", {**REQUIRED["AksCluster"](), "azure_policy": azure_policy})
        k8s.core.v1.ConfigMap("policy", metadata=k8s.meta.v1.ObjectMetaArgs(name="p", namespace="gatekeeper-system"),
                              data={"a": "b"}, opts=pulumi.ResourceOptions(provider=aks.provider))
    advice = [w for w in run(program).warnings if w.startswith("namespace ")]
    assert advice == ([] if azure_policy else [
        "namespace gatekeeper-system: policy goes there, and nothing in this program creates it: it must exist before "
        "`pulumi up`, or create it (an AppNamespace, a Namespace object) and depend on it"])


def test_the_namespaces_of_aks_mesh_and_routing_add_ons_exist_only_on_the_cluster_that_has_them():
    """Istio add-on: aks-istio-system, aks-istio-ingress with an ingress gateway, an egress gateway's namespace
    (aks-istio-egress unless named); application routing: app-routing-system. A second cluster without them and a
    namespace of a gateway left disabled draw the advice."""
    from pulumi_azure_native import containerservice as cs

    def cluster(name: str, addons: bool) -> k8s.Provider:
        mesh = cs.ServiceMeshProfileArgs(mode=cs.ServiceMeshMode.ISTIO, istio=cs.IstioServiceMeshArgs(
            components=cs.IstioComponentsArgs(
                ingress_gateways=[cs.IstioIngressGatewayArgs(enabled=True, mode=cs.IstioIngressGatewayMode.INTERNAL)],
                egress_gateways=[cs.IstioEgressGatewayArgs(enabled=True, name="out"),
                                 cs.IstioEgressGatewayArgs(enabled=True, name="out2", namespace="team-egress"),
                                 cs.IstioEgressGatewayArgs(enabled=False, name="off", namespace="off-egress")])))
        aks = cs.ManagedCluster(name, resource_group_name="rg", resource_name_=name, location="westeurope",
                                service_mesh_profile=mesh if addons else None,
                                ingress_profile=cs.ManagedClusterIngressProfileArgs(
                                    web_app_routing=cs.ManagedClusterIngressProfileWebAppRoutingArgs(enabled=True))
                                if addons else None)
        creds = cs.list_managed_cluster_user_credentials_output(resource_group_name="rg", resource_name=aks.name)
        kubeconfig = creds.kubeconfigs[0].value.apply(lambda v: __import__("base64").b64decode(v).decode())
        return k8s.Provider(name, kubeconfig=kubeconfig, opts=pulumi.ResourceOptions(depends_on=[aks]))

    namespaces = ("aks-istio-system", "aks-istio-ingress", "aks-istio-egress", "team-egress", "app-routing-system",
                  "off-egress")

    def program() -> None:
        for name, addons in (("mesh", True), ("bare", False)):
            provider = cluster(name, addons)
            for ns in namespaces:
                k8s.core.v1.ConfigMap(f"{name}-{ns}", metadata=k8s.meta.v1.ObjectMetaArgs(name="c", namespace=ns),
                                      data={"a": "b"}, opts=pulumi.ResourceOptions(provider=provider))
    advised = sorted(w.split(": ")[1].split(" go")[0] for w in run(program).warnings if w.startswith("namespace "))
    assert advised == sorted(["mesh-off-egress", *(f"bare-{ns}" for ns in namespaces)])


def test_an_add_ons_namespace_exists_for_a_provider_made_from_its_cluster_through_another_resource():
    """A provider depends on its ManagedCluster only through another resource (its kubeconfig read once a pool of the
    cluster is there): the cluster's add-on namespaces exist for it all the same. A second cluster made after the
    first (depending on it) does not inherit the first's add-ons: its provider is made from the second."""
    import base64
    from pulumi_azure_native import containerservice as cs

    def program() -> None:
        first = cs.ManagedCluster("first", resource_group_name="rg", resource_name_="first", location="westeurope",
                                  addon_profiles={"azurepolicy": cs.ManagedClusterAddonProfileArgs(enabled=True)})
        second = cs.ManagedCluster("second", resource_group_name="rg", resource_name_="second",
                                   location="westeurope", opts=pulumi.ResourceOptions(depends_on=[first]))
        for name, cluster in (("first", first), ("second", second)):
            pool = cs.AgentPool(f"{name}-pool", resource_group_name="rg", resource_name_=cluster.name,
                                agent_pool_name="user", count=1)
            creds = cs.list_managed_cluster_user_credentials_output(
                resource_group_name="rg", resource_name=name, opts=pulumi.InvokeOutputOptions(depends_on=[pool]))
            provider = k8s.Provider(name, kubeconfig=creds.kubeconfigs[0].value.apply(
                lambda v: base64.b64decode(v).decode()))
            k8s.core.v1.ConfigMap(f"{name}-policy", metadata=k8s.meta.v1.ObjectMetaArgs(
                name="p", namespace="gatekeeper-system"), data={"a": "b"},
                opts=pulumi.ResourceOptions(provider=provider))
    plan = run(program)
    assert plan.one("pulumi:providers:kubernetes", "first").dependencies == [plan.one(
        "azure-native:containerservice:AgentPool", "first-pool").urn]  # the cluster only through its pool
    assert [w.split(" goes")[0] for w in plan.warnings if w.startswith("namespace ")] == [
        "namespace gatekeeper-system: second-policy"]


@pytest.mark.parametrize("inputs, expected", [
    ({"serviceMeshProfile": "Istio"}, []),
    ({"serviceMeshProfile": {"mode": "Istio", "istio": "on"}}, ["aks-istio-system"]),
    ({"serviceMeshProfile": {"mode": "Istio", "istio": {"components": ["x"]}}}, ["aks-istio-system"]),
    ({"serviceMeshProfile": {"mode": "Istio", "istio": {"components": {
        "egressGateways": "x", "ingressGateways": [1]}}}}, ["aks-istio-system"]),
    ({"addonProfiles": ["azurepolicy"]}, []), ({"ingressProfile": {"webAppRouting": True}}, [])])
def test_a_clusters_add_on_inputs_of_another_shape_give_no_namespace_and_no_traceback(inputs, expected):
    """The add-on namespaces are read from a ManagedCluster's raw inputs (a dict literal may hold anything there):
    whatever is not the documented object counts as off, never a traceback from the kit."""
    from llmplatform.testing import Registration
    from llmplatform.testing.namespace_rules import _addon_namespaces
    cluster = Registration("urn:c", "azure-native:containerservice:ManagedCluster", "c", "", True, inputs, [], [], {})
    assert _addon_namespaces(cluster) == expected


def test_two_addresses_and_two_front_doors_named_alike_are_two():
    """Azure allocates each public IP its own address and each Front Door profile its own ID: the stand-ins too, per
    ARM id (one address for every IP let an origin or a DNS record name the other region's and look right)."""
    import ipaddress
    import uuid
    import pulumi_azure_native as azure

    def program():
        for group in ("rg-westeurope", "rg-swedencentral"):
            ip = azure.network.PublicIPAddress(f"ip-{group}", public_ip_address_name="pip-gateway",
                                               resource_group_name=group)
            door = azure.cdn.Profile(f"fd-{group}", profile_name="fd-edge", resource_group_name=group,
                                     location="global", sku=azure.cdn.SkuArgs(name="Premium_AzureFrontDoor"))
            pulumi.export(group, pulumi.Output.all(ip.ip_address, door.front_door_id))
    seen = run(program).outputs
    assert len(seen) == 2
    addresses, doors = {v[0] for v in seen.values()}, {v[1] for v in seen.values()}
    assert len(addresses) == 2 and all(ipaddress.ip_address(a).is_global for a in addresses)
    assert len(doors) == 2 and all(str(uuid.UUID(d)) == d for d in doors)


def test_two_clusters_named_alike_in_two_groups_have_two_identities_of_each_kind():
    """Each Azure resource gets principals of its own, as Entra gives them: a program with one cluster per region,
    named alike in two resource groups and pulling from one shared registry, makes two AcrPull grants for two kubelet
    identities. With ids made of the Azure name alone they were one principal, and the plan was refused as two
    writes of one role assignment."""
    import llmplatform
    from llmplatform.testing.stand_ins import cluster_principals
    from tests.components.test_components_alone import REQUIRED
    registry = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shared/providers/"
                "Microsoft.ContainerRegistry/registries/mirror")

    def program():
        for region in ("westeurope", "swedencentral"):
            llmplatform.AksCluster(f"aks-{region}", {
                **REQUIRED["AksCluster"](), "cluster_name": "aks-llm", "resource_group_name": f"rg-{region}",
                "location": region, "image_registry": "mirror.azurecr.io", "image_registry_id": registry})
    plan = run(program)
    clusters = plan.of_type("azure-native:containerservice:ManagedCluster")
    principals = [cluster_principals(c) for c in clusters]
    assert len({p for pair in principals for p in pair}) == 4
    pulls = sorted(r.inputs["principalId"] for r in plan.of_type("azure-native:authorization:RoleAssignment")
                   if r.name.endswith("-acr-pull"))
    assert pulls == sorted(kubelet for _, kubelet in principals)


def _network_in(group_name) -> None:
    """A resource group and a network in it, the network given the group's name as `group_name` makes it."""
    from pulumi_azure_native import network, resources
    group = resources.ResourceGroup("rg", resource_group_name="rg-Team", location="westeurope")
    network.VirtualNetwork("vnet", resource_group_name=group_name(group), location="westeurope",
                           address_space=network.AddressSpaceArgs(address_prefixes=["10.0.0.0/16"]))


def test_a_resource_in_a_group_the_program_creates_waits_for_the_group():
    """Azure refuses a create in a group that does not exist yet (404 ResourceGroupNotFound): a network given the
    group's name as a string of its own (in another case: group names are case-insensitive) may run first."""
    with pytest.raises(ProgramError) as refused:
        run(lambda: _network_in(lambda group: "rg-team"))
    assert "vnet may be created before resource group rg-team, which rg creates" in str(refused.value)
    assert "[group-first]" in str(refused.value)
    assert run(lambda: _network_in(lambda group: group.name)).of_type("azure-native:network:VirtualNetwork")


def test_a_resource_in_a_group_the_program_adopts_need_not_wait_for_it():
    """A group adopted with `import_` exists before the run (the engine's import step only reads it): a network
    given its name as a string of its own is created in it whenever it runs, as Azure accepts."""
    from pulumi_azure_native import network, resources

    def program():
        resources.ResourceGroup("rg", resource_group_name="rg-team", location="westeurope",
                                opts=pulumi.ResourceOptions(import_="/subscriptions/0/resourceGroups/rg-team"))
        network.VirtualNetwork("vnet", resource_group_name="rg-team", location="westeurope",
                               address_space=network.AddressSpaceArgs(address_prefixes=["10.0.0.0/16"]))
    assert run(program).of_type("azure-native:network:VirtualNetwork")


def test_a_group_of_the_same_name_in_another_subscription_is_not_the_one_the_program_creates():
    """A resource group is one subscription's: a network made through a provider of another subscription, in that
    subscription's group of the same name, need not wait for the group the program creates in its own."""
    import pulumi_azure_native as azure_native
    from pulumi_azure_native import network, resources

    def program():
        other = azure_native.Provider("other", subscription_id="11111111-1111-1111-1111-111111111111")
        resources.ResourceGroup("rg", resource_group_name="rg-team", location="westeurope")
        network.VirtualNetwork("vnet", resource_group_name="rg-team", location="westeurope",
                               address_space=network.AddressSpaceArgs(address_prefixes=["10.0.0.0/16"]),
                               opts=pulumi.ResourceOptions(provider=other))
    assert run(program).of_type("azure-native:network:VirtualNetwork")


def _two_teams_each_with_a_provider_named_alike(kind: str, preview_kubeconfig: bool = False) -> None:
    """Two components of two types, each with its own explicit provider named "p" (two URNs, one name)."""
    import pulumi_azure_native as azure_native
    from pulumi_azure_native import authorization, resources
    for team, subscription in (("A", "11111111-1111-1111-1111-111111111111"),
                               ("B", "22222222-2222-2222-2222-222222222222")):
        part = pulumi.ComponentResource(f"test:index:Team{team}", f"team-{team}")
        if kind == "azure":
            provider = azure_native.Provider("p", subscription_id=subscription,
                                             opts=pulumi.ResourceOptions(parent=part))
            group = resources.ResourceGroup("rg", resource_group_name=f"rg-{team}", location="westeurope",
                                            opts=pulumi.ResourceOptions(parent=part, provider=provider))
            pulumi.export(f"{team}-group", group.id)
            pulumi.export(f"{team}-asked", authorization.get_client_config_output(
                opts=pulumi.InvokeOptions(parent=part, provider=provider)).subscription_id)
        else:  # team A's kubeconfig comes from a resource still to be created (unknown in a preview); B's is known,
            # once A's provider is registered
            made_from = resources.ResourceGroup("rg", location="westeurope", opts=pulumi.ResourceOptions(
                parent=part)).name if team == "A" else provider.urn
            provider = k8s.Provider("p", kubeconfig=made_from.apply(lambda _: "apiVersion: v1\nkind: Config\n"),
                                    opts=pulumi.ResourceOptions(parent=part))
            config = k8s.core.v1.ConfigMap("config", metadata={"name": f"config-{team}"}, data={"a": "b"},
                                           opts=pulumi.ResourceOptions(parent=part, provider=provider))
            pulumi.export(f"{team}-config", config.metadata.name)


def test_two_providers_named_alike_under_two_parents_are_two_providers():
    """The engine knows a provider by its reference, `<URN>::<id>` (pulumi/pulumi 1b5949891b
    sdk/go/common/providers/reference.go `Reference.String`; pkg/resource/deploy/providers/registry.go keeps them in
    a `map[providers.Reference]plugin.Provider`): two explicit providers named alike under two components are two.
    The kit knew them by name: the second one's subscription answered the first one's resources and invokes, and in
    a preview the first one's unknown kubeconfig left the second one's objects without outputs."""
    plan = run(lambda: _two_teams_each_with_a_provider_named_alike("azure"))
    # a group's id is /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName} (Azure REST API, Resource
    # Groups - Get); ARM compares ids without case, and azure-native's template writes `resourcegroups`
    assert {k: v.lower() for k, v in plan.outputs.items()} == {
        "A-group": "/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups/rg-a",
        "A-asked": "11111111-1111-1111-1111-111111111111",
        "B-group": "/subscriptions/22222222-2222-2222-2222-222222222222/resourcegroups/rg-b",
        "B-asked": "22222222-2222-2222-2222-222222222222"}
    preview = run(lambda: _two_teams_each_with_a_provider_named_alike("kubernetes"), preview=True)
    assert (preview.unknown_outputs, preview.outputs) == (["A-config"], {"B-config": "config-B"})


def test_offline_mocks_under_the_sdks_own_monitor_answer_with_the_programs_provider():
    """`pulumi.runtime.set_mocks(OfflineMocks())` with `@pulumi.runtime.test` (Pulumi's unit-test style): the SDK's
    MockMonitor gives a top-level provider the root Stack as parent (its reference `...::pulumi:pulumi:Stack$
    pulumi:providers:azure-native::p::<id>`, pulumi 3.272.0 `runtime/mocks.py` `make_urn`) and hands the mocks no
    parent. The provider's subscription and location still answer the resources it runs (by name, as before URNs)."""
    from pulumi.runtime.mocks import MockMonitor, MockResourceArgs
    from llmplatform.testing import OfflineMocks
    mocks, sdk = OfflineMocks(), MockMonitor(None)
    stack = sdk.make_urn("", "pulumi:pulumi:Stack", "project-stack")
    reference = sdk.make_urn(stack, "pulumi:providers:azure-native", "p") + "::p-id"
    subscription = "11111111-2222-3333-4444-555555555555"
    mocks.new_resource(MockResourceArgs("pulumi:providers:azure-native", "p", {
        "subscriptionId": subscription, "location": "swedencentral"}, custom=True))
    _, group = mocks.new_resource(MockResourceArgs("azure-native:resources:ResourceGroup", "rg", {
        "resourceGroupName": "rg-x"}, provider=reference, custom=True))
    assert (group["id"].split("/")[2], group["location"]) == (subscription, "swedencentral")


def test_azure_monitoring_in_the_group_an_aks_cluster_creates_is_refused_and_in_a_group_of_ones_own_plans():
    """docs/components/observability.md: the workspaces need their group first, so the group is the program's own and
    the cluster uses it (existing_resource_group); the same group name made by the cluster is created after them."""
    from pulumi_azure_native import resources
    from llmplatform import AksCluster, AzureMonitoring

    def program(own_group: bool) -> None:
        group = resources.ResourceGroup("rg", resource_group_name="rg-a", location="westeurope").name \
            if own_group else "rg-a"
        monitoring = AzureMonitoring("mon", {"location": "westeurope", "resource_group_name": group})
        AksCluster("aks", {
            "cluster_name": "aks-a", "resource_group_name": group, "location": "westeurope",
            "existing_resource_group": own_group,
            "log_analytics_workspace_id": monitoring.log_analytics_workspace_id,
            "network": {"vnet_cidr": "10.60.0.0/16", "node_subnet_cidr": "10.60.0.0/20",
                        "endpoints_subnet_cidr": "10.60.16.0/24", "postgres_subnet_cidr": "10.60.17.0/24",
                        "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16", "dns_service_ip": "172.16.0.10"},
            "system_pool": {"name": "system", "vm_size": "Standard_D2s_v5", "min_count": 1, "max_count": 2},
            "workload_pool": {"name": "cpu", "vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 3}})
    with pytest.raises(ProgramError) as refused:
        run(lambda: program(False))
    assert "mon-logs may be created before resource group rg-a, which aks-rg creates" in str(refused.value)
    assert run(lambda: program(True)).of_type("azure-native:operationalinsights:Workspace")


def _not_outputs(value, annotation, path):
    """The keys of a stand-in answer that the SDK's output types do not have (what a program reading it through the
    SDK would get as None, though the real provider answers), walked through the getters' annotations."""
    import typing
    from collections.abc import Mapping
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (pulumi.Output, typing.Union) and args:
        return _not_outputs(value, args[0], path)
    if typing.get_origin(annotation) in (Mapping, dict) and isinstance(value, dict):
        return [p for key, item in value.items() for p in _not_outputs(item, args[-1], f"{path}[{key}]")]
    if not isinstance(value, dict) or not isinstance(annotation, type):
        return []
    from llmplatform.azure_inputs import output_getters
    getters = output_getters(annotation)
    if not getters:
        return []
    found = []
    for key, item in value.items():
        if key not in getters:
            found.append(f"{path}.{key}")
        else:
            found += _not_outputs(item, typing.get_type_hints(getters[key])["return"], f"{path}.{key}")
    return found


def test_what_the_stand_ins_answer_beyond_the_inputs_is_the_providers_output_shape():
    """The ids, names, addresses and identities the stand-ins add to each azure-native answer (a cluster's OIDC
    issuer and kubelet identity, a server's FQDN, a vault's URI, ...) are read by the program through the SDK's
    output types: a key the type lacks reaches the program as None, so a program would plan offline on a value the
    real provider gives under another name. Every added key is walked against the resource class's getters and
    their output types, for every azure-native type any stack plans."""
    from llmplatform import azure_inputs
    from llmplatform.testing import stand_ins
    from tests.conftest import plan_for
    seen, wrong = set(), []
    for stack in ("dev", "prod", "llmd", "global"):
        for reg in plan_for(stack).resources:
            if not reg.custom or not reg.type.startswith("azure-native:") or reg.type in seen:
                continue
            seen.add(reg.type)
            resource = azure_inputs._resource_class(reg.type)
            state = stand_ins._mock_state(reg.type, reg.name, reg.inputs)[1]
            added = {k: v for k, v in state.items() if k != "id" and v != reg.inputs.get(k)}
            wrong += _not_outputs(added, resource, reg.type)
    assert len(seen) > 30 and wrong == []
    # and the walk sees a key the provider does not answer
    cluster = azure_inputs._resource_class("azure-native:containerservice:ManagedCluster")
    assert _not_outputs({"oidcIssuerProfile": {"issuerUrl": "x"}}, cluster, "c") == ["c.oidcIssuerProfile.issuerUrl"]


def _options_from_a_parent() -> None:
    """A component given protect, retain_on_delete and deleted_with, and its children given none of them (one of
    them its own protect=False): the Python SDK sends the child its parent's protect, the other two unset."""
    import pulumi_random as random
    anchor = random.RandomPet("anchor")
    parent = pulumi.ComponentResource("test:index:Part", "part", None, pulumi.ResourceOptions(
        protect=True, retain_on_delete=True, deleted_with=anchor))
    inner = pulumi.ComponentResource("test:index:Inner", "inner", None, pulumi.ResourceOptions(parent=parent))
    random.RandomPet("child", opts=pulumi.ResourceOptions(parent=inner))
    random.RandomPet("unprotected", opts=pulumi.ResourceOptions(parent=parent, protect=False,
                                                                retain_on_delete=False))


def test_a_child_keeps_the_options_the_engine_gives_it_from_its_parents():
    """The engine gives a registration that leaves protect, retainOnDelete or deletedWith unset its parent's
    (pulumi/pulumi `source_eval.go` `inheritFromParent`), down the chain of components: a child of a component given
    retain_on_delete is not deleted with the stack, one given deleted_with is deleted with that resource. The kit
    recorded what the SDK sent, so it showed both children as deleted on their own; one that sets an option keeps
    its own value."""
    plan = run(_options_from_a_parent)
    anchor = plan.one("random:index/randomPet:RandomPet", "anchor").urn
    child = plan.one("random:index/randomPet:RandomPet", "child").options
    assert (child["protect"], child["retainOnDelete"], child.get("deletedWith")) == (True, True, anchor)
    own = plan.one("random:index/randomPet:RandomPet", "unprotected").options
    assert (own["protect"], own["retainOnDelete"], own.get("deletedWith")) == (False, False, anchor)
    assert plan.one("random:index/randomPet:RandomPet", "anchor").options.get("deletedWith") is None


def test_resources_naming_no_provider_are_run_by_one_default_provider_per_package_and_version():
    """The engine makes a default provider for each package and version a resource, read or invoke uses without
    naming a provider (`default_providers.go`; named by `providers.go` `DefaultName`), and runs those resources with
    it; a resource naming its provider is run by that one."""
    plan = run(_options_from_a_parent)
    import pulumi_random
    version = pulumi_random._utilities.get_version()
    (default,) = plan.default_providers
    assert (default.type, default.name, default.inputs) == (
        "pulumi:providers:random", "default_" + version.replace(".", "_"), {"version": version})
    assert default.urn == "urn:pulumi:test::test::pulumi:providers:random::" + default.name
    assert {r.name: (plan.provider_of(r).urn if plan.provider_of(r) else None) for r in plan.resources} == {
        "anchor": default.urn, "child": default.urn, "unprotected": default.urn, "part": None, "inner": None}
    plan = run(_fine)
    assert plan.default_providers == [] and plan.provider_of(plan.resources[1]) is plan.resources[0]
    # a provider the program registers gets the plugin version its SDK sends, as the engine records it
    # (source_eval.go `RegisterResource`: providers.SetProviderVersion), so a plugin upgrade shows as its update
    assert plan.resources[0].inputs == {"kubeconfig": "apiVersion: v1\nkind: Config\n",
                                        "version": k8s._utilities.get_version()}


def test_an_output_made_outside_any_run_does_not_hang_the_runs_after_it():
    """An Output made outside `run` (a test module's `pulumi.Output.from_input(...)`, or `run(program())` calling the
    program itself) went into the SDK's process-wide set of output tasks, which a run under the mocks reads too
    (pulumi 3.272.0 runtime/mocks.py MockSettings sets no `outputs`): every later run awaited its task, on a loop
    that never runs, for ever. Here in a thread of its own, so that a hang fails the test instead of the suite."""
    import asyncio
    import threading

    def config_program() -> None:
        pulumi.export("size", pulumi.Config().require("size"))
    outcome: dict[str, object] = {}

    def consumer_test_module() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())  # a module's top level: the thread's own, idle loop
        pulumi.Output.from_input("x").apply(lambda value: value + "y")
        outcome["plan"] = run(config_program, project="acme", config={"acme:size": "3"})
    worker = threading.Thread(target=consumer_test_module, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "the run after an Output made outside any run hung"
    assert outcome["plan"].outputs == {"size": "3"}  # type: ignore[attr-defined]


def test_a_bare_config_key_is_the_projects_as_pulumi_config_set_stores_it():
    """`pulumi config set size 3` stores `<project>:size` (pulumi/pulumi 1b5949891b pkg/cmd/pulumi/config/io.go
    parseConfigKey), and `pulumi.Config().require("size")` reads it: `config={"size": "3"}` read as nothing before."""
    def program() -> None:
        pulumi.export("size", pulumi.Config().require("size"))
        pulumi.export("location", pulumi.Config("azure-native").require("location"))
    plan = run(program, project="acme", config={"size": "3", "azure-native:location": "westeurope"})
    assert plan.outputs == {"size": "3", "location": "westeurope"}


@pytest.mark.parametrize("arguments, words", [
    ({"program": "__main__.py"}, "run: program: expects the program as a function, .* got str '__main__.py'"),
    ({"config": ["size=3"]}, r"run: config: expects a dict of config keys .* got list \['size=3'\]"),
    ({"references": ["prod"]}, r"run: references: expects a dict .* got list \['prod'\]"),
    ({"references": {"prod": "aks-1"}}, r"run: references\['prod'\]: expects that stack's outputs .* got str 'aks-1'"),
    ({"stack": None}, "run: stack: expects the stack's name, a non-empty string, got NoneType None"),
    ({"preview": "yes"}, "run: preview: expects True or False, got str 'yes'"),
])
def test_a_wrong_argument_to_run_is_one_line_naming_it_before_anything_runs(arguments, words):
    """They failed deep inside the run ("'str' object is not callable", "'list' object has no attribute 'items'"),
    or, `preview="yes"`, were taken as given."""
    arguments = {"program": _fine, **arguments}
    with pytest.raises(TypeError, match=words) as refused:
        run(**arguments)
    assert "\n" not in str(refused.value)


class _Response(dict):
    """A dict subclass with a `values` field, as the SDKs' output types are (k8s LabelSelectorRequirement.values)."""
    values = ["a"]


def _nested(leaves):
    from hypothesis import strategies as st
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=4),
        st.dictionaries(st.text(max_size=3), inner, max_size=3).map(_Response)), max_leaves=12)


def test_the_kits_unknown_walk_answers_as_the_sdks_for_any_value():
    """The kit swaps the SDK's `rpc.contains_unknowns` for the same walk without its recursive closure (runner.py
    `_contains_unknowns`): on any nesting of lists, dicts and dict subclasses, with unknowns anywhere, a value shared
    twice and a list holding itself, both answer alike (outside a run the SDK's own is in place)."""
    from hypothesis import given, settings, strategies as st
    from pulumi.output import UNKNOWN
    from pulumi.runtime import rpc
    from llmplatform.testing.runner import _contains_unknowns
    sdk = rpc.contains_unknowns
    assert sdk is not _contains_unknowns

    @settings(max_examples=150, deadline=None)
    @given(_nested(st.one_of(st.none(), st.integers(), st.text(max_size=3), st.just(UNKNOWN))))
    def agree(value):
        shared = [value, {"again": value}]
        looped: list = [value]
        looped.append(looped)
        for each in (value, shared, looped):
            assert _contains_unknowns(each) is sdk(each), each
    agree()
    assert _contains_unknowns({"deep": [_Response(x=[1, {"y": UNKNOWN}])]}) is True


def test_a_run_leaves_no_reference_cycle_for_each_unknown_walk():
    """The SDK's `contains_unknowns` defines a recursive closure at each call, a reference cycle the cyclic collector
    alone frees: ~12,700 a prod plan, 9 million objects in one test worker, collected at once for 8 s of CPU. Under
    the kit a run of outputs and their applies leaves none, and the SDK's own walk is back after the run."""
    from pulumi.runtime import rpc
    sdk = rpc.contains_unknowns

    def program() -> None:
        source = pulumi.Output.from_input({"a": ["b", {"c": "d"}]})
        for i in range(20):
            k8s.core.v1.ConfigMap(f"config-{i}", metadata={"name": f"config-{i}"},
                                  data=source.apply(lambda v, i=i: {"k": f"{v['a'][0]}-{i}"}))
    gc.collect()
    gc.freeze()  # what earlier tests left is set aside: the collection below walks this run's objects alone
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        assert len(run(program).resources) == 20
        gc.collect()
        closures = [o for o in gc.garbage if getattr(o, "__qualname__", "") == "contains_unknowns.<locals>.impl"]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert closures == []
    assert rpc.contains_unknowns is sdk


def test_a_custom_timeout_the_engine_cannot_parse_is_refused_as_it_refuses_it():
    """The SDK sends customTimeouts as any text; the engine reads each with Go's time.ParseDuration and fails the
    registration on anything else (pulumi/pulumi 1b5949891b source_eval.go `generateTimeoutInSeconds`). The mocks
    took `30 minutes`; the kit refuses it, naming the resource, and takes Go's `1h30m` and `500ms`."""
    def program(create: str) -> None:
        k8s.core.v1.ConfigMap("config", metadata={"name": "config"}, data={"a": "b"},
                              opts=pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create=create,
                                                                                                delete="500ms")))
    assert run(lambda: program("1h30m")).one("kubernetes:core/v1:ConfigMap").options["customTimeouts"]["create"] \
        == "1h30m"
    with pytest.raises(ProgramError, match=r"config \(kubernetes:core/v1:ConfigMap\): customTimeouts.create "
                                           r"'30 minutes' is no duration the engine reads"):
        run(lambda: program("30 minutes"))


def test_a_run_waiting_on_a_future_nothing_completes_is_refused_and_the_next_run_works():
    """Under `pulumi up` such a program never ends (the engine waits for it); the kit says so, naming the resources
    still waiting, instead of hanging the user's test run. The stall leaves nothing behind for the next run."""
    import asyncio

    def program() -> None:
        never = pulumi.Output.from_input(asyncio.get_event_loop().create_future())
        k8s.core.v1.ConfigMap("waits", data={"k": never.apply(str)})
        k8s.core.v1.ConfigMap("free", data={"k": "v"})
    with pytest.raises(ProgramError) as refused:
        run(program)
    assert str(refused.value).endswith("these resources wait for inputs that never resolve: "
                                       "kubernetes:core/v1:ConfigMap waits")
    assert [r.name for r in run(lambda: k8s.core.v1.ConfigMap("after", data={"k": "v"})).resources
            if r.type == "kubernetes:core/v1:ConfigMap"] == ["after"]


def _waits_in_a_sync_invoke() -> None:
    """A sync invoke (the SDK turns the running loop itself until it is answered: pulumi 3.272.0
    runtime/sync_await.py) inside an apply, its argument a value nothing gives, beside other applies ready at once."""
    import asyncio

    never = pulumi.Output.from_input(asyncio.get_event_loop().create_future())
    k8s.core.v1.ConfigMap("waits", data={"k": never.apply(str)})
    ready = pulumi.Output.from_input("x")
    looked_up = ready.apply(lambda _: pulumi.runtime.invoke("acme:index:lookUp", {"of": never}).value)
    for i in range(3):
        k8s.core.v1.ConfigMap(f"sibling-{i}", data={"k": ready.apply(lambda v, i=i: f"{v}{i}")})
    k8s.core.v1.ConfigMap("uses", data={"k": looked_up.apply(str)})


def _catches_the_stall() -> None:
    """A sync invoke tried, its failure caught and a default taken (its argument a future nothing completes)."""
    import asyncio

    try:
        found = pulumi.runtime.invoke("acme:index:lookUp", {"of": asyncio.get_event_loop().create_future()}).value
    except Exception:  # noqa: BLE001 - a program's fallback
        found = {"k": "default"}
    k8s.core.v1.ConfigMap("after", data=found)


@pytest.mark.parametrize("program", [_waits_in_a_sync_invoke, _catches_the_stall])
def test_a_stall_met_inside_the_sdks_own_wait_is_told_once_and_nothing_else(caplog, program):
    """The stall raised inside the SDK's own turning of the loop left its bookkeeping undone: asyncio printed
    "Exception in callback ... RuntimeError: Leaving task ... does not match the current task None" with a traceback
    (or the run ended in "IndexError: pop from an empty deque"), the resource waiting on the invoke went unnamed (its
    registration had failed with the stall by then), and a program that caught the error planned as if it finished,
    where `pulumi up` waits forever."""
    caplog.set_level(logging.ERROR, logger="asyncio")
    with pytest.raises(ProgramError) as refused:
        run(program, invokes={"acme:index:lookUp": lambda args: {"k": "v"}})
    message = str(refused.value)
    assert message.startswith("the program never finishes: "), message
    if program is _waits_in_a_sync_invoke:
        assert message.endswith("these resources wait for inputs that never resolve: kubernetes:core/v1:ConfigMap "
                                "uses, kubernetes:core/v1:ConfigMap waits; these invokes wait for arguments that "
                                "never resolve: acme:index:lookUp"), message
    else:
        assert message.endswith("; these invokes wait for arguments that never resolve: acme:index:lookUp"), message
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert [r.name for r in run(_fine).resources] == ["k8s", "config"]


def _slow_thread() -> None:
    import asyncio
    import threading
    import time

    loop = asyncio.get_event_loop()
    done = loop.create_future()

    def work() -> None:
        time.sleep(1.6)
        loop.call_soon_threadsafe(done.set_result, "computed")
    threading.Thread(target=work).start()
    k8s.core.v1.ConfigMap("threaded", data={"k": pulumi.Output.from_input(done)})


def _slow_subprocess() -> None:
    import asyncio
    import sys

    async def tool(value: str) -> str:
        process = await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(1.6)")
        return f"{value}-{await process.wait()}"
    k8s.core.v1.ConfigMap("threaded", data={"k": pulumi.Output.from_input("exit").apply(tool)})


@pytest.mark.parametrize("program", [_slow_thread, _slow_subprocess], ids=["thread", "subprocess"])
def test_a_program_waiting_longer_than_the_grace_on_its_own_thread_or_subprocess_plans(program):
    """A thread the program starts, or a subprocess it waits for, may take longer than the stall's grace of a second
    (a tool, a file's hash): the run was refused as never finishing, and the thread then failed on the closed loop."""
    assert [r.name for r in run(program).resources if r.type == "kubernetes:core/v1:ConfigMap"] == ["threaded"]


class _Published(pulumi.ComponentResource):
    def __init__(self, name: str, value: pulumi.Output[str]) -> None:
        super().__init__("acme:index:Published", name)
        self.register_outputs({"ready": "yes", "value": value})


def test_a_stack_or_component_output_that_never_resolves_is_named():
    """`pulumi up` waits for every stack output and every component output the program registers; a run waiting
    only for them said "the program never finishes" and named nothing to look at."""
    import asyncio

    def program() -> None:
        never = pulumi.Output.from_input(asyncio.get_event_loop().create_future())
        _Published("pub", never.apply(str))
        pulumi.export("endpoint", never)
        pulumi.export("plain", "known")
    with pytest.raises(ProgramError) as refused:
        run(program)
    assert str(refused.value).endswith("; these outputs never resolve: acme:index:Published pub output 'value', "
                                       "the stack output 'endpoint'"), str(refused.value)


def test_a_stall_is_told_in_a_program_with_a_transform_whose_grpc_server_nobody_calls():
    """A transform starts the SDK's callbacks server (gRPC's poller thread and its socket on the loop), which under
    the mocks nobody calls: counted as something that may still wake the loop, the stall was waited for forever."""
    import asyncio
    import signal

    def program() -> None:
        pulumi.runtime.register_resource_transform(lambda args: None)
        never = pulumi.Output.from_input(asyncio.get_event_loop().create_future())
        k8s.core.v1.ConfigMap("waits", data={"k": never.apply(str)})

    def hung(*_: object) -> None:
        raise TimeoutError("the run hung")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    try:
        with pytest.raises(ProgramError, match="never resolve: kubernetes:core/v1:ConfigMap waits"):
            run(program)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
