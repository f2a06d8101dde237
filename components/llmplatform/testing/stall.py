"""A run that can never finish, told instead of waited for: the engine waits for a Python program as long as it runs,
and a program whose values wait on each other (a value that needs a resource whose inputs need that value) or on a
future nothing completes stays idle forever, under `pulumi up` as under the mocks."""
import asyncio
import functools
import selectors
import sys
import threading
from typing import Any, Iterable, Optional

import pulumi
from pulumi.runtime import settings, sync_await
from pulumi.runtime.stack import Stack

# How long the loop may sit with nothing ready and nothing scheduled before the run counts as stalled, when nothing
# of the program's own could still wake it (`_may_wake`). Under the mocks every monitor call completes in the loop's
# own thread (runner._OneCallAtATime), so nothing else wakes it.
STALL_GRACE_S = 1.0
# The name of the thread runner._OneCallAtATime starts under an SDK whose monitor it cannot answer in the loop's
# thread: idle between calls, it wakes nothing.
KIT_THREADS = "llmplatform-mocks"
# The SDK's pump (pulumi 3.272.0 runtime/sync_await.py `_sync_await`): a sync invoke, a plain resource method
# (pulumi_azure_native/_utilities.py `call_plain`), `register_resource_transform` turn the running loop themselves.
_SDK_PUMP = sync_await._sync_await.__code__


class StalledRun(Exception):
    """The run's event loop had nothing left to do while the program was not finished."""


class _StallWatchingSelector(selectors.DefaultSelector):
    """asyncio's selector loop blocks in `select(None)` only when no callback is ready and no timer is scheduled
    (CPython 3.11 asyncio/base_events.py `_run_once`, the same in 3.12 and 3.13): then only I/O or another thread
    could wake it."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: Optional["WatchedLoop"] = None
        self.threads_before = set(threading.enumerate())

    def select(self, timeout: Any = None) -> Any:
        if timeout is not None:
            return super().select(timeout)
        loop = self.loop
        if loop is not None and loop.stalled is not None:
            # stalled before (the error is on its way up through the program): nothing is waited for again
            events = super().select(0)
            if events:
                return events
            raise StalledRun()
        while True:
            events = super().select(STALL_GRACE_S)
            if events:
                return events
            if not self._may_wake():
                break
        if loop is not None:
            loop.stalled = still_waiting(asyncio.all_tasks(loop))  # as they wait now, before the error reaches them
        raise StalledRun()

    def _may_wake(self) -> bool:
        """Whether something of the program's own may still wake the loop: a thread it started that still runs (its
        work may take longer than the grace, then complete a future with `call_soon_threadsafe`; asyncio's own
        subprocess watcher on CPython 3.11, `unix_events.py` ThreadedChildWatcher, is such a thread) or a file it
        watches (a subprocess's pipe; its pidfd on 3.12+). gRPC's completion queue is not counted, its poller
        thread nor its socket: they serve the SDK's callbacks (a transform, a resource hook), which under the mocks
        no engine calls (pulumi 3.272.0 runtime/mocks.py `_resolve_callbacks` calls each transform itself); nor the
        loop's own self-pipe, nor the kit's idle executor thread."""
        loop = self.loop
        own_pipe = getattr(loop, "_ssock", None)
        for key in self.get_map().values():
            if own_pipe is not None and key.fd == own_pipe.fileno():
                continue
            if not any(_of_grpc(getattr(handle, "_callback", None)) for handle in (key.data or ()) if handle):
                return True
        for thread in threading.enumerate():
            if (thread in self.threads_before or not thread.is_alive() or thread.name.startswith(KIT_THREADS)
                    or _of_grpc(getattr(thread, "_target", None))):
                continue
            return True
        return False


def _of_grpc(function: Any) -> bool:
    """A function of gRPC's, or a method of one of its classes (its poller, its completion queue's reader)."""
    while isinstance(function, functools.partial):
        function = function.func
    owner = getattr(function, "__self__", None)
    modules = (getattr(function, "__module__", None), getattr(type(owner), "__module__", None))
    return any(isinstance(m, str) and (m == "grpc" or m.startswith("grpc.")) for m in modules)


class WatchedLoop(asyncio.SelectorEventLoop):
    """An event loop that raises StalledRun where the default one would wait forever. `stalled`: None, or from the
    first stall on, the resources, the invokes and the outputs still waiting then (`still_waiting`)."""

    def __init__(self) -> None:
        selector = _StallWatchingSelector()
        super().__init__(selector)
        self.stalled: Optional[tuple[list[str], list[str], list[str]]] = None
        selector.loop = self

    def _run_once(self) -> None:
        try:
            super()._run_once()  # type: ignore[misc]
        except StalledRun:
            caller = sys._getframe(1)
            if caller.f_code is _SDK_PUMP:
                _hand_back(self, caller.f_locals)
            raise


def _hand_back(loop: asyncio.AbstractEventLoop, pump: dict[str, Any]) -> None:
    """A stall found while the SDK's `_sync_await` turned the loop itself: the error leaves the pump without its
    bookkeeping (pulumi 3.272.0 runtime/sync_await.py: no `finally`), which is done here. The task it stepped out of
    (`_leave_task`) is entered again, or asyncio failed the task's step with "RuntimeError: Leaving task ... does
    not match the current task None" and printed it with a traceback; and the ready list is filled back to the
    length the enclosing `_run_once` counted on, or it popped an empty deque (IndexError out of the run)."""
    ready = getattr(loop, "_ready", None)
    ntodo = pump.get("ntodo")
    if ready is not None and isinstance(ntodo, int):
        while len(ready) < ntodo:
            handle = asyncio.Handle(lambda: None, (), loop)
            handle.cancel()
            ready.append(handle)
    task = pump.get("task")
    if isinstance(task, asyncio.Task) and asyncio.current_task(loop) is None:
        asyncio.tasks._enter_task(loop, task)


def new_event_loop() -> WatchedLoop:
    """An event loop that raises StalledRun where the default one would wait forever."""
    return WatchedLoop()


def still_waiting(tasks: Iterable["asyncio.Task[Any]"]) -> tuple[list[str], list[str], list[str]]:
    """The resources ('type name'), the invokes and the outputs still waiting. Each resource whose registration never
    went out: its task is still waiting for its inputs (pulumi 3.272.0 runtime/resource.py `register_resource` runs
    `do_register`, a closure over `ty` and `name`, in a task; `read_resource` likewise); each invoke whose arguments
    never came (runtime/invoke.py `_invoke` runs `do_invoke`, a closure over `tok`); and each output of the stack
    (`pulumi.export`) or of a component (`register_outputs`) still to come, which the SDK waits for before the
    program ends (`register_resource_outputs` runs `do_register_resource_outputs`, a closure over `res` and
    `outputs`): `pulumi up` waits for them as long."""
    waiting, invokes, outputs = set(), set(), set()
    for task in tasks:
        coro = task.get_coro()
        frame = getattr(coro, "cr_frame", None)
        if task.done() or frame is None:
            continue
        kind = getattr(coro, "__name__", "")
        if kind in ("do_register", "do_read"):
            ty, name = frame.f_locals.get("ty"), frame.f_locals.get("name")
            if isinstance(ty, str) and isinstance(name, str):
                waiting.add(f"{ty} {name}")
        elif kind == "do_invoke" and isinstance(frame.f_locals.get("tok"), str):
            invokes.add(frame.f_locals["tok"])
        elif kind == "do_register_resource_outputs":
            outputs.update(_outputs_to_come(frame.f_locals.get("res"), frame.f_locals.get("outputs")))
    # the stack's outputs, which the SDK's end-of-program wait (runtime/stack.py `wait_for_rpcs`, every Output's
    # task) waits for under the mocks too, where nothing registers them (the kit reads them after the run)
    root = settings.get_root_resource()
    outputs.update(_outputs_to_come(root, getattr(root, "outputs", None)))
    return sorted(waiting), sorted(invokes), sorted(outputs)


def _outputs_to_come(resource: Any, outputs: Any) -> list[str]:
    if not isinstance(resource, pulumi.Resource) or not isinstance(outputs, dict):
        return []
    keys = [key for key, value in outputs.items()
            if isinstance(value, pulumi.Output) and isinstance(getattr(value, "_data", None), asyncio.Future)
            and not value._data.done()]
    if isinstance(resource, Stack):
        return [f"the stack output {key!r}" for key in keys]
    ty, name = getattr(resource, "_type", "?"), getattr(resource, "_name", "?")
    return [f"{ty} {name} output {key!r}" for key in keys]
