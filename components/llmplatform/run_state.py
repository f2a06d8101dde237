"""What one Pulumi run remembers across components: the device software a cluster's first GPU pool installs, the
last write to each Key Vault. Kept per run, so a process that runs programs one after another (an Automation API
inline program previewed then updated, a test suite) starts each afresh instead of reading the last run's record."""
from typing import Any, Awaitable, Optional

import pulumi
from pulumi.runtime import settings

_STATE: dict[str, tuple[Any, dict[Any, Any]]] = {}


def current_run() -> Any:
    """The run under way: its root Stack resource, which every program run creates anew (the SDK's mocks too). The
    component provider's Construct calls have none: one provider process serves one deployment, so there the record
    is the process's and spans every component of that deployment."""
    return settings.get_root_resource()


def per_run(name: str) -> dict[Any, Any]:
    """The record `name` of the current run, empty when the run is new."""
    run = current_run()
    held = _STATE.get(name)
    if held is None or held[0] is not run:
        held = _STATE[name] = (run, {})
    return held[1]


def claim(record: str, key: Any, name: str) -> Optional[str]:
    """`name` takes `key` in the run's record `record` (a namespace, a pool name on one cluster): the other component
    that already holds it, if any (and then nothing is recorded), else None."""
    taken = per_run(record)
    other = taken.get(key)
    if other is not None and other != name:
        return other
    taken[key] = name
    return None


class Turn:
    """A place in the run's queue of writes that Azure takes one at a time per key (a vault's secrets, a cluster's
    pools). `after` is the write's `depends_on`: once `key` and `ready` resolve, the run's previous write under that
    key; the write given to `held_by` is then the last. Writes queue in the order their inputs resolve, so one
    waiting for a slow value joins late instead of holding the others; in a preview, where a key may be unknown,
    no order is taken (nothing is written)."""

    def __init__(self, record: str, key: pulumi.Input[Any], ready: pulumi.Input[Any] = None):
        self._write: Optional[pulumi.Resource] = None
        self._before: Optional[Turn] = None
        last = per_run(record)
        stack = (pulumi.get_project(), pulumi.get_stack())  # a provider process may serve more than one stack

        def take(values: list[Any]) -> Awaitable[list[pulumi.Resource]]:
            k = repr((stack, values[0]))
            before = last.get(k)
            if self._write is not None:
                last[k] = self
                self._before = before
            return _last_done(before)
        self.after: pulumi.Output[list[pulumi.Resource]] = pulumi.Output.all(key, ready).apply(take)

    def held_by(self, write: pulumi.Resource) -> pulumi.Resource:
        """The write that takes this turn (set as it is declared, before the event loop resolves `after`)."""
        self._write = write
        return write


async def _last_done(turn: Optional[Turn]) -> list[pulumi.Resource]:
    """The write of `turn`, once it is done; when it failed (refused by a late input check before it was sent, or by
    Azure), the one before it: a failed write holds no place in the queue. Depending on it carried its error to
    every later write under the key (through the component provider, where one process serves a deployment, each
    later GPU pool of the cluster was refused with the first one's message)."""
    while turn is not None and turn._write is not None:
        try:
            await turn._write.urn.future()
            turn._before = None  # done: no later turn walks back past it (one process serves a whole deployment)
            return [turn._write]
        except Exception:  # noqa: BLE001 (its own error is reported where it was made)
            turn = turn._before
    return []
