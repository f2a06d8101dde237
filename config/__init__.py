"""Stack configuration: loading, validation, and the catalogs it validates against.

`PlatformConfig` is imported on first use: its modules import the component package (and so the Pulumi SDK), which
the stack-file reader (`config.stack_yaml`) and `ConfigError` need not, so the plan CLI (offline/plan.py) refuses
a stack file that does not read before that import."""
from typing import TYPE_CHECKING, Any

from .reader import ConfigError

if TYPE_CHECKING:
    from .platform_config import PlatformConfig

__all__ = ["ConfigError", "PlatformConfig"]


def __getattr__(name: str) -> Any:
    if name == "PlatformConfig":
        from .platform_config import PlatformConfig
        return PlatformConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
