"""The stack config's security section (config/sections/security.py): the reporting switches need observability."""

import pytest

from config.loader import parse_config
from config.reader import ConfigError


@pytest.mark.parametrize("key", ["defender", "diagnostics"])
def test_reporting_switches_need_observability(key):
    with pytest.raises(ConfigError, match=f"security.{key} needs observability.enabled"):
        parse_config({"security": {key: True}, "observability": {"enabled": False},
                      "autoscaling": {"mode": "cpu"}}, "p", "s")
