"""What one Pulumi run remembers across components: the device software a cluster's first GPU pool installs, the
last write to each Key Vault. Kept per run, so a process that runs programs one after another (an Automation API
inline program previewed then updated, a test suite) starts each afresh instead of reading the last run's record."""
from typing import Any

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
