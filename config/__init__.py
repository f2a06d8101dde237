"""Stack configuration: loading, validation, and the catalogs it validates against."""
from .reader import ConfigError
from .schema import PlatformConfig

__all__ = ["ConfigError", "PlatformConfig"]
