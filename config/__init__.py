"""Stack configuration: loading, validation, and the catalogs it validates against."""
from .reader import ConfigError
from .platform_config import PlatformConfig

__all__ = ["ConfigError", "PlatformConfig"]
