"""A program run as a stranger's own test runs it: `pulumi.runtime.set_mocks` with the SDK's own monitor, no
`llmplatform.testing` runner, in a fresh context and event loop."""
from __future__ import annotations

import asyncio
import contextvars
from typing import Callable

import pulumi
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from llmplatform.testing import runner


def run_under_sdk_mocks(mocks: pulumi.runtime.Mocks, program: Callable[[], None], preview: bool,
                        stack: str = "test") -> None:
    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            pulumi.runtime.set_mocks(mocks, project="p", stack=stack, preview=preview)
            _sync_await(run_pulumi_func(program))
        finally:  # a failed run leaves tasks and Output tasks behind, which the next run in the process awaited
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()
            asyncio.set_event_loop(None)
            runner._forget_outputs()
    contextvars.Context().run(run)
