"""A run that can never finish, told instead of waited for: the engine waits for a Python program as long as it runs,
and a program whose values wait on each other (a value that needs a resource whose inputs need that value) or on a
future nothing completes stays idle forever, under `pulumi up` as under the mocks."""
import asyncio
import selectors
from typing import Any, Iterable

# How long the loop may sit with nothing ready and nothing scheduled before the run counts as stalled. Under the
# mocks every monitor call completes in the loop's own thread (runner._OneCallAtATime), so nothing else wakes it; the
# grace only leaves room for a thread a program starts itself.
STALL_GRACE_S = 1.0


class StalledRun(Exception):
    """The run's event loop had nothing left to do while the program was not finished."""


class _StallWatchingSelector(selectors.DefaultSelector):
    """asyncio's selector loop blocks in `select(None)` only when no callback is ready and no timer is scheduled
    (CPython 3.11 asyncio/base_events.py `_run_once`): then only I/O or another thread could wake it."""

    def select(self, timeout: Any = None) -> Any:
        if timeout is not None:
            return super().select(timeout)
        events = super().select(STALL_GRACE_S)
        if not events:
            raise StalledRun()
        return events


def new_event_loop() -> asyncio.AbstractEventLoop:
    """An event loop that raises StalledRun where the default one would wait forever."""
    return asyncio.SelectorEventLoop(_StallWatchingSelector())


def waiting_registrations(tasks: Iterable["asyncio.Task[Any]"]) -> list[str]:
    """'type name' of each resource whose registration never went out: its task is still waiting for its inputs
    (pulumi 3.272.0 runtime/resource.py `register_resource` runs `do_register`, a closure over `ty` and `name`, in a
    task; `read_resource` likewise)."""
    waiting = []
    for task in tasks:
        coro = task.get_coro()
        frame = getattr(coro, "cr_frame", None)
        if task.done() or frame is None or getattr(coro, "__name__", "") not in ("do_register", "do_read"):
            continue
        ty, name = frame.f_locals.get("ty"), frame.f_locals.get("name")
        if isinstance(ty, str) and isinstance(name, str):
            waiting.append(f"{ty} {name}")
    return sorted(set(waiting))
