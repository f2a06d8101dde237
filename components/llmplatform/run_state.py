"""What one Pulumi run remembers across components: the device software a cluster's first GPU pool installs, the
last write to each Key Vault. Kept per run, so a process that runs programs one after another (an Automation API
inline program previewed then updated, a test suite) starts each afresh instead of reading the last run's record."""
from typing import Any, Optional

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


class Turn:
    """A place in the run's queue of writes that Azure takes one at a time per key (a vault's secrets, a cluster's
    pools). `after` is the write's `depends_on`: once `key` and `ready` resolve, the run's previous write under that
    key; the write given to `held_by` is then the last. Writes queue in the order their inputs resolve, so one
    waiting for a slow value joins late instead of holding the others; in a preview, where a key may be unknown,
    no order is taken (nothing is written)."""

    def __init__(self, record: str, key: pulumi.Input[Any], ready: pulumi.Input[Any] = None):
        self._write: Optional[pulumi.Resource] = None
        last = per_run(record)
        stack = (pulumi.get_project(), pulumi.get_stack())  # a provider process may serve more than one stack

        def take(values: list[Any]) -> list[pulumi.Resource]:
            k = repr((stack, values[0]))
            previous = last.get(k)
            if self._write is not None:
                last[k] = self._write
            return [previous] if previous is not None else []
        self.after: pulumi.Output[list[pulumi.Resource]] = pulumi.Output.all(key, ready).apply(take)

    def held_by(self, write: pulumi.Resource) -> pulumi.Resource:
        """The write that takes this turn (set as it is declared, before the event loop resolves `after`)."""
        self._write = write
        return write
