"""stdout for the offline CLIs that a reader may close early (`make plan | head`)."""
import os
from typing import Any


class QuietWhenClosed:
    """stdout that goes nowhere once its reader has gone (`make plan | head`): the rest of the report is dropped, the
    plan is still written and its exit code returned, never a BrokenPipeError traceback."""

    def __init__(self, stream: Any):
        self._stream = stream

    def _guard(self, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)
            try:
                return call(*args)
            except BrokenPipeError:
                return None

    def write(self, text: str) -> Any:
        return self._guard(self._stream.write, text)

    def flush(self) -> Any:
        return self._guard(self._stream.flush)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
