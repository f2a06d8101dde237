"""`run`: a Python function as a Pulumi program under the mocks, in a fresh context and event loop, refused as the
real engine and APIs would refuse it."""
import asyncio
import concurrent.futures
import contextlib
import contextvars
import inspect
import json
import logging
import weakref
from typing import Any, Awaitable, Callable, Collection, Iterator, Mapping, Optional, cast

import pulumi
from pulumi import resource as pulumi_sdk_resource
from pulumi.runtime import (known_types, mocks as pulumi_mocks, resource as pulumi_resource, rpc as pulumi_rpc,
                            settings as pulumi_settings)
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from .. import cluster_access
from ..checks import ComponentInputError
from ..mappings import whole_numbers
from ..rules import shown
from .api_server import StandInApiServers, VirtualClock
from .collisions import UNJUDGEABLE, refusals
from .egress_denials import voided_egress_denials
from .identity_pods import identity_pod_advice
from .namespace_rules import uncreated_namespaces
from .records import Plan, ProgramError
from .routes import interceptor_cuts_answers, unwatched_model_servers
from .stall import KIT_THREADS, StalledRun, new_event_loop
from .stand_ins import (ANSWERED_INVOKES, InvokeAnswer, OfflineMocks, RecordingMonitor, UnansweredInvoke,
                        _WarningCollector)


def run(program: Callable[[], object], project: str = "test", stack: str = "test",
        config: Optional[dict[str, Any]] = None, references: Optional[dict[str, "dict[str, Any] | Plan"]] = None,
        preview: bool = False, invokes: Optional[dict[str, InvokeAnswer]] = None,
        unjudged: Optional[Collection[str]] = ()) -> Plan:
    """Run a Python function as a Pulumi program under the mocks and the engine's refusals, in a fresh context
    and event loop. `config` is what `pulumi.Config` reads (keys 'project:key', a bare 'key' the project's, as
    `pulumi config set` stores it), `references` answers StackReferences (the stack as the program references it,
    org/project/stack, or its stack name -> its outputs, a `Secret(value)` for one that stack holds as a secret; or
    that stack's Plan, its secret_outputs secret): as the engine, get_output and require_output of a secret output
    are secret, and `outputs` whole when any is. Raises ProgramError when the program stops or would be refused.

    `preview=True` runs it as `pulumi preview` of a stack with nothing created yet (the first command on a new stack,
    a pull request's check): each create answered as its provider answers a preview (stand_ins.preview_state: no
    id; an azure-native resource's inputs of an output's name, every other output unknown, its `name` too; no
    output at all of a Kubernetes object whose provider's kubeconfig is not known yet), `pulumi.runtime.is_dry_run()`
    true, an apply on an unknown not run (a resource created inside it is missing, as from the real preview), an
    invoke with an unknown argument or a dependency still to be created not sent; an invoke sent for an Azure
    resource (or in a resource group) the stack creates is refused (Azure answers 404). StackReferences read
    existing stacks, as in a run.
    The plan's `unknown_outputs` names the stack outputs not known in the preview (left out of `outputs`).

    `invokes` answers the program's own invokes, by token, e.g. a cluster it did not make read with
    `containerservice.get_managed_cluster`: {"azure-native:containerservice:getManagedCluster": {"location":
    "westeurope", "oidcIssuerProfile": {"issuerURL": "https://..."}, ...}}, the fields as the REST API spells them
    (the SDK reads a field spelt otherwise as None), or a function of the call's arguments (a dict) returning them.
    An invoke nobody answers stops the run with a ProgramError naming it; the components' own invokes the kit
    answers itself.

    `unjudged` names rules of the kit to leave out (a list; None: none), for a program that knows better:
    `"reachability"` leaves out what objects outside the program decide of its pods' calls, which the kit cannot see:
    the drops and DNS lookups judged under the program's NetworkPolicies alone (a policy applied by hand, by another
    stack or by a chart may admit them) and a bare host's namespace (a Service made outside the program may answer
    it there). It keeps the refusal of a URL on a port its Service does not expose: nothing outside the program adds
    a port to the program's Service."""
    config = _arguments_checked(program, project, stack, config, references, preview, invokes, unjudged)
    # Outputs made outside any run (a test module's `pulumi.Output.from_input(...)`, a program called directly):
    # their tasks belong to no run's loop, and the SDK's end-of-program wait for every output's task awaited them
    # for ever, the run hung without a word.
    _forget_outputs()
    try:
        with _sdk_swapped():
            return contextvars.Context().run(_run, project, stack, config, program, references, preview, invokes,
                                             frozenset(unjudged or ()))
    finally:
        _forget_outputs()


def _arguments_checked(program: Any, project: Any, stack: Any, config: Any, references: Any,
                       preview: Any, invokes: Any = None, unjudged: Any = ()) -> dict[str, Any]:
    """`run`'s arguments refused in one line naming the argument, the value and what it takes (a TypeError, before
    anything runs), where they failed deep inside the run ("'str' object is not callable", "'list' object has no
    attribute 'items'"); the config with each key as `pulumi.Config` reads it: a key without a namespace is the
    project's, as `pulumi config set size 3` stores `<project>:size` (pulumi/pulumi 1b5949891b
    pkg/cmd/pulumi/config/io.go `parseConfigKey`: "any key with no delimiter as if <program-name>:<key>")."""
    def refuse(argument: str, wanted: str, value: Any) -> TypeError:
        return TypeError(f"run: {argument}: expects {wanted}, got {type(value).__name__} {shown(value)}")
    if not callable(program):
        raise refuse("program", "the program as a function, called with no arguments under the mocks (e.g. "
                     "lambda: runpy.run_path('__main__.py', run_name='__main__'))", program)
    for argument, value in (("project", project), ("stack", stack)):
        if not isinstance(value, str) or not value:
            raise refuse(argument, f"the {argument}'s name, a non-empty string", value)
    if not isinstance(preview, bool):
        raise refuse("preview", "True or False", preview)
    if not isinstance(config or {}, Mapping) or not all(isinstance(k, str) and k for k in config or {}):
        raise refuse("config", "a dict of config keys ('project:key', or 'key' for the project's) to values",
                     config)
    if not isinstance(references or {}, Mapping):
        raise refuse("references", "a dict of each referenced stack's name to its outputs (a dict) or its Plan",
                     references)
    for name, outputs in (references or {}).items():
        if not isinstance(outputs, (Mapping, Plan)):
            raise refuse(f"references[{name!r}]", "that stack's outputs (a dict) or its Plan", outputs)
    if not isinstance(invokes or {}, Mapping):
        raise refuse("invokes", "a dict of each invoke's token (azure-native:containerservice:getManagedCluster) to "
                     "its answer", invokes)
    for token, answer in (invokes or {}).items():
        if not isinstance(token, str) or token.count(":") != 2:
            raise refuse("invokes", "invoke tokens as the provider names them, package:module:function (azure-native:"
                         "containerservice:getManagedCluster)", token)
        if token.rsplit(":", 1)[-1] in ANSWERED_INVOKES:
            raise refuse(f"invokes[{token!r}]", "an invoke the kit does not answer itself (it answers "
                         f"{', '.join(ANSWERED_INVOKES)} as its stand-in clusters and deployer need)", answer)
        if not isinstance(answer, Mapping) and not callable(answer):
            raise refuse(f"invokes[{token!r}]", "the invoke's result (a dict) or a function of its arguments", answer)
    if isinstance(unjudged, (str, Mapping)) or not isinstance(unjudged or (), Collection) or \
            not all(isinstance(rule, str) and rule in UNJUDGEABLE for rule in unjudged or ()):
        raise refuse("unjudged", f"a list of the kit's rules to leave out, among {', '.join(map(repr, UNJUDGEABLE))}",
                     unjudged)
    return {key if ":" in key else f"{project}:{key}": value for key, value in (config or {}).items()}


@contextlib.contextmanager
def _sdk_swapped() -> Iterator[None]:
    """For the run (each put back after it), `StackReference.require_output` refusing a missing name in one line
    (`_require_output`), the mock monitor's awaits completed in the loop's thread
    (`_complete_now`, `_OneCallAtATime`), the SDK's unknown-value walk without its garbage (`_contains_unknowns`)
    and two computations of the SDK whose results the monitor never reads:
    - the stack walk at each registration (pulumi 3.272.0 `pulumi/runtime/resource.py` `_get_stack_trace`, every
      frame turned into a file URI) for the resource's source position and stack trace, which only the engine's
      diagnostics show: about a tenth of a run's CPU under a test runner's deep stack;
    - every alias's URN, built when a resource is constructed (`pulumi/resource.py` `Resource.__init__` fills
      `_aliases` with `collapse_alias_to_urn`, an Output chain per alias; azure-native gives each resource an alias
      per other API version of its type). `_aliases` is read only by `runtime/resource.py` `all_aliases`, which
      `prepare_aliases` calls only for a monitor without alias specs; the mock monitor has them, as the engine does,
      and each alias goes out as a spec built from the resource's options. About 60 % of an Azure component's run."""
    # another SDK may name them otherwise: then the work is done
    swaps = [(module, name, getattr(module, name), stand_in) for module, name, stand_in in _SDK_SWAPS
             if hasattr(module, name)]
    for module, name, _, stand_in in swaps:
        setattr(module, name, stand_in)
    try:
        yield
    finally:
        for module, name, original, _ in swaps:
            setattr(module, name, original)


def _contains_unknowns(value: Any) -> bool:
    """pulumi 3.272.0 `runtime/rpc.py` `contains_unknowns`, the same walk without its recursive closure. The SDK
    defines `impl` anew at each call and `impl` names itself: a reference cycle (function, cell, closure tuple, its
    `set[int]` annotation) per call, which only the cyclic collector frees. Every Output's data and every `future()`
    call it (~12,700 times in a prod run): nine tenths of the cyclic garbage of a run (83,800 objects of a prod plan,
    7,800 with the swap), which a process running many plans (a test worker) collected at once, 9 million objects
    for 8 s of CPU. Same order, same reads
    (`value[key]` for each key, as a dict subclass answers them), same answer."""
    return _holds_unknown(value, set())


def _holds_unknown(value: Any, seen: set[int]) -> bool:
    if known_types.is_unknown(value):
        return True
    if id(value) in seen:
        return False
    seen.add(id(value))
    if isinstance(value, dict):
        return any(_holds_unknown(value[key], seen) for key in value)
    if isinstance(value, list):
        return any(_holds_unknown(item, seen) for item in value)
    return False


def _unread_alias_urn(alias: Any, *_: Any) -> Any:
    """What a resource keeps in `_aliases` in a run under the mocks: the alias as given, no URN computed."""
    return alias


def _run(project: str, stack: str, config: dict[str, Any], program: Callable[[], object],
         references: Optional[dict[str, "dict[str, Any] | Plan"]] = None, preview: bool = False,
         invokes: Optional[dict[str, InvokeAnswer]] = None, unjudged: frozenset[str] = frozenset()) -> Plan:
    loop = new_event_loop()
    tasks = _tasks_of(loop)
    executor = _OneCallAtATime()
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    errors = _QuietRunErrors()
    loop.set_exception_handler(errors)
    failed, real_surroundings = True, cluster_access.SURROUNDINGS
    try:
        # The engine hands every config value over as text, structured ones as JSON.
        pulumi.runtime.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
        # one for registrations and invokes: a kubeconfig names its cluster's region
        mocks = OfflineMocks(references, preview, invokes)
        monitor = RecordingMonitor(mocks, config)
        api = StandInApiServers(mocks.api_servers.get, lambda: monitor.registrations, VirtualClock())
        cluster_access.SURROUNDINGS = api.surroundings()  # put back in `finally`
        warnings = _WarningCollector()
        logger = logging.getLogger(f"offline-plan-{project}-{stack}")
        logger.propagate = False
        logger.handlers = [warnings]
        pulumi_mocks.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor,
                               logger=logger)
        try:
            # the SDK awaits what the program returns when it is awaitable and drops anything else (pulumi 3.272.0
            # runtime/stack.py run_pulumi_func): a consumer's `lambda: runpy.run_path(...)` or `lambda: Component(...)`
            _sync_await(run_pulumi_func(cast(Callable[[], Optional[Awaitable[None]]], program)))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:
            # A stall is the cause of whatever followed it: the StalledRun a program's own wait met (a sync invoke)
            # may have reached the run as another error, or been caught by the program
            if loop.stalled is not None:
                raise ProgramError(_stalled(*loop.stalled), len(monitor.registrations)) from None
            if isinstance(error, ComponentInputError):
                raise  # a component's refusal, with its property paths (a RunError too)
            if isinstance(error, (pulumi.RunError, UnansweredInvoke)):
                raise ProgramError(str(error), len(monitor.registrations)) from None
            raise
        if loop.stalled is not None:  # the program caught the StalledRun and went on: `pulumi up` waits still
            raise ProgramError(_stalled(*loop.stalled), len(monitor.registrations))
        refused = mocks.refused_reads() + refusals(monitor.registrations, preview, unjudged)
        if refused:
            raise ProgramError("the real engine or API would refuse this program:\n  " + "\n  ".join(refused),
                               len(monitor.registrations))
        plan = Plan(project=project, stack=stack, resources=monitor.registrations,
                    warnings=warnings.messages + unwatched_model_servers(monitor.registrations)
                    + uncreated_namespaces(monitor.registrations) + voided_egress_denials(monitor.registrations)
                    + identity_pod_advice(monitor.registrations) + interceptor_cuts_answers(monitor.registrations),
                    access_reviews=api.reviews, invokes=mocks.invokes,
                    default_providers=list(monitor.default_providers.values()),
                    default_provider_of=dict(monitor.default_provider_of), preview=preview)
        root = pulumi_settings.get_root_resource()
        for key, value in (getattr(root, "outputs", None) or {}).items():
            output = pulumi.Output.from_input(value)
            if not _sync_await(output.is_known()):  # in a preview: shown as `output<T>`
                plan.unknown_outputs.append(key)
                continue
            plan.outputs[key] = whole_numbers(_sync_await(output.future()))
            if _sync_await(output.is_secret()):
                plan.secret_outputs.append(key)
        failed = False
        return plan
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C: the run is abandoned, not drained (below)
        errors.interrupted = True
        raise
    finally:
        # A run stopped by an error in an apply leaves tasks behind; cancel them here, or the next run in this
        # process would wait on futures of a closed loop. Not after an interrupt: a task it cut short mid-step may
        # never finish, and waiting for it hung the process it was meant to stop.
        pending = {task for task in tasks if not task.done()}
        for task in pending:
            if failed:
                _close_unawaited(task)
            task.cancel()
        if not errors.interrupted:
            with contextlib.suppress(StalledRun):  # a task that outlives its cancellation
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        errors.finish(loop, failed)
        loop.close()
        executor.shutdown(wait=not errors.interrupted, cancel_futures=errors.interrupted)
        asyncio.set_event_loop(None)
        cluster_access.SURROUNDINGS = real_surroundings
        _forget_outputs()


def _stalled(waiting: list[str], invokes: list[str], outputs: list[str]) -> str:
    what = ("; these resources wait for inputs that never resolve: " + ", ".join(waiting)) if waiting else ""
    what += ("; these invokes wait for arguments that never resolve: " + ", ".join(invokes)) if invokes else ""
    what += ("; these outputs never resolve: " + ", ".join(outputs)) if outputs else ""
    return ("the program never finishes: it waits for values nothing will ever give (a value that waits for a "
            "resource whose inputs wait for that value, or a future nothing completes); `pulumi up` would wait "
            "as long" + what)


def _close_unawaited(task: "asyncio.Task[Any]") -> None:
    """The coroutines a task cancelled after a failed run was handed and never awaited, closed: the SDK builds an
    Output of `value.future()` and `value.is_known()` (pulumi 3.272.0 `stack_reference.py` `require_output`,
    `output.py` `Output.__init__` awaits them in a task); cancelled before it got to them, each was reported as
    "coroutine ... was never awaited" whenever it was collected, in the middle of later tests."""
    coro = task.get_coro()
    frame = getattr(coro, "cr_frame", None)
    for value in (frame.f_locals.values() if frame is not None else ()):
        if inspect.iscoroutine(value) and inspect.getcoroutinestate(value) == inspect.CORO_CREATED:
            value.close()


def _tasks_of(loop: asyncio.AbstractEventLoop) -> "weakref.WeakSet[asyncio.Task[Any]]":
    """The tasks created on this run's loop (the SDK makes every one with create_task or ensure_future, which use the
    loop's task factory). asyncio.all_tasks(loop) walks every task alive in the process instead: in a process running
    many plans (a test suite), hundreds of thousands left by earlier runs, until a garbage collection frees them."""
    tasks: "weakref.WeakSet[asyncio.Task[Any]]" = weakref.WeakSet()

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> "asyncio.Task[Any]":
        task = asyncio.Task(coro, loop=loop, **kwargs)
        tasks.add(task)
        return task
    loop.set_task_factory(factory)
    return tasks


class _OneCallAtATime(concurrent.futures.ThreadPoolExecutor):
    """The SDK sends each call to the (mock) monitor through the loop's default executor, a thread pool: the calls
    then completed in the order the threads happened to finish, so writes that queue in the order their inputs
    resolve (llmplatform.run_state.Turn: a vault's secrets) took a different order run to run, and two plans of one
    program differed. Here `submit` returns a finished future, so the answers reach the loop in call order.

    The call runs at once in the loop's own thread while the monitor's awaits are `_complete_now` (the run swaps it
    in): a hand-off to a worker thread, and a loop of that thread's own per call, were a fifth of a whole stack's run.
    Under an SDK whose monitor awaits otherwise, the call runs on the executor's one thread while the loop waits (the
    SDK's `_sync_await` in the loop's thread would pump the running loop: see `_complete_now`). A ThreadPoolExecutor
    because asyncio takes no other kind as a loop's default."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix=KIT_THREADS)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> "concurrent.futures.Future[Any]":
        if vars(pulumi_mocks).get("_sync_await") is not _complete_now:
            future = super().submit(fn, *args, **kwargs)
            concurrent.futures.wait([future])  # the error too is handed to the awaiting coroutine, as the pool would
            return future
        done: "concurrent.futures.Future[Any]" = concurrent.futures.Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as error:
            done.set_exception(error)
        return done


def _complete_now(awaitable: Any) -> Any:
    """The mock monitor's `_sync_await` for a call made in the loop's own thread. The SDK's pumps the running loop
    from inside the call, and the registrations that then run make calls of their own that pump it again, one level
    deeper each: a program creating some 70 resources at once stopped with a RecursionError. The monitor awaits only
    the serialization of plain values (the mocks' answers), which finishes without waiting for anything: run to its
    end here. An awaitable that does wait (a value still to come) is left to the SDK's `_sync_await`."""
    if not asyncio.iscoroutine(awaitable):
        return _sync_await(awaitable)
    try:
        waiting = awaitable.send(None)
    except StopIteration as done:
        return done.value
    return _sync_await(_rest_of(awaitable, waiting))


async def _rest_of(coroutine: Any, waiting: Any) -> Any:
    """A coroutine stopped at its first wait, run on by the loop as a task would run it."""
    while True:
        if waiting is None:  # a bare yield (asyncio.sleep(0)): one turn of the loop
            await asyncio.sleep(0)
        else:
            waiting._asyncio_future_blocking = False
            await asyncio.wait([waiting])  # the coroutine reads the future's result or error itself when resumed
        try:
            waiting = coroutine.send(None)
        except StopIteration as done:
            return done.value


_SDK_REQUIRE_OUTPUT = pulumi.StackReference.require_output


def _require_output(self: pulumi.StackReference, name: Any) -> pulumi.Output[Any]:
    """The SDK's `require_output`, a name the referenced stack lacks refused in one line. pulumi 3.272.0
    `stack_reference.py` indexes the outputs inside an apply (`l[1][l[0]]`): a bare KeyError left the run, which the
    real engine prints as "Program failed with an unhandled exception" and its traceback (pulumi/pulumi 1b5949891b
    `sdk/python/cmd/pulumi-language-python-exec`). The name is checked first (a RunError: the run's ProgramError),
    then handed on: value and secrecy are the SDK's."""
    def checked(args: list[Any]) -> Any:
        wanted, stack, outputs = args
        if wanted not in (outputs or {}):
            raise pulumi.RunError(f"StackReference {stack!r}: require_output({wanted!r}): that stack has no output of "
                                  f"that name (its outputs: {', '.join(sorted(outputs or {})) or 'none'})")
        return wanted
    return _SDK_REQUIRE_OUTPUT(self, pulumi.Output.all(pulumi.Output.from_input(name), self.name, self.outputs)
                               .apply(checked))


_SDK_SWAPS = ((pulumi_resource, "_get_stack_trace", source_pb2.StackTrace),  # empty: no source position
              (pulumi_sdk_resource, "collapse_alias_to_urn", _unread_alias_urn),
              (pulumi_mocks, "_sync_await", _complete_now),
              (pulumi_rpc, "contains_unknowns", _contains_unknowns),  # the same answer, no garbage
              (pulumi.StackReference, "require_output", _require_output))  # not a skip: a clear refusal


class _QuietRunErrors:
    """The run loop's exception handler. A RunError the program raised in an apply is the run's one clean message
    (ProgramError); the same error left on sibling futures must not be printed again as a traceback. Nor, after a
    run that failed, any error a future or task of it holds that nothing awaited: an error inside the SDK (an output
    of the wrong type, say) is left on the futures of every output of that resource, which asyncio printed as "Future
    exception was never retrieved", with a traceback each, whenever they were collected: hundreds, during later
    tests. After a run that succeeded such a report is a failure nothing else shows (a task the program started and
    never awaited): it is reported as asyncio would. Reports made while the run is still going are held until it is
    known how it ended. After a run cut short by Ctrl-C, nothing is reported: the tasks it left pending ("Task was
    destroyed but it is pending!") are the interrupt's, which the caller reports. (The loop keeps this handler after
    it is closed.)"""

    def __init__(self) -> None:
        self.running, self.failed, self.interrupted = True, False, False
        self.held: list[dict[str, Any]] = []

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if self.interrupted or isinstance(context.get("exception"), pulumi.RunError):
            return
        if "exception was never retrieved" in str(context.get("message", "")):
            if self.running:
                self.held.append(context)
                return
            if self.failed:
                return
        loop.default_exception_handler(context)

    def finish(self, loop: asyncio.AbstractEventLoop, failed: bool) -> None:
        self.running, self.failed = False, failed
        held, self.held = self.held, []
        for context in held if not failed else ():
            loop.default_exception_handler(context)


def _forget_outputs() -> None:
    """The SDK keeps every Output's task in a settings set that falls back to one process-wide default outside a
    configured context, and a run under the mocks reads that default too (pulumi 3.272.0 `runtime/mocks.py`
    `MockSettings.__init__` sets a fresh `rpc_manager`, no `outputs`); `wait_for_rpcs` at a program's end awaits every
    task in it. Tasks of a finished run's loop left there would be awaited by the next run; so would those of Outputs
    made outside any run (a test module's `pulumi.Output.from_input(...)`, `run(program())` calling the program
    itself), on a loop that never runs: the next run hung without a word. A stray task on a loop that is not running
    is cancelled and drained there, or asyncio prints "Task was destroyed but it is pending!" for each (thousands
    after a whole program called outside `run`)."""
    with pulumi_settings.SETTINGS.lock:
        tasks = list(pulumi_settings.SETTINGS.outputs)
        pulumi_settings.SETTINGS.outputs.clear()
    for loop in {task.get_loop() for task in tasks if not task.done()}:
        if loop.is_running() or loop.is_closed():
            continue
        stray = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in stray:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*stray, return_exceptions=True))
