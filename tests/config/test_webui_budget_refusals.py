"""Open-WebUI's connection refusal on every stack with a UI: its sum adds up as it says (the running replicas, twice
as many Terminating, the pods' pools, the Jobs and the administrator), past what the server admits, in words that
read right at one replica (docs/decisions.md, "The UI budget and the component inputs reviewed")."""
import re

import pytest

from config.loader import parse_config
from config.reader import ConfigError

from tests.config.test_loader import stack_raw

REFUSAL = re.compile(r"Open-WebUI may hold \((?P<running>\d+) (?P<noun>replicas?) \+ (?P<old>\d+) Terminating ones .*?"
                     r"\) x (?P<per_pod>\d+) per pod .*? \+ (?P<jobs>\d+) for the bootstrap and migration Jobs \+ "
                     r"(?P<admin>\d+) for the administrator = (?P<total>\d+) connections, and \S+ admits "
                     r"(?P<admits>\d+)")

CASES = [  # (stack, overrides): a maximum or workers the stack's server cannot hold
    ("dev", {"webui": {"maxReplicas": 2}}),
    ("dev", {"webui": {"extraEnv": {"UVICORN_WORKERS": 2}}}),
    ("llmd", {"webui": {"maxReplicas": 2}}),
    ("prod", {"webui": {"maxReplicas": 40}}),
    ("prod-westeurope", {"webui": {"maxReplicas": 40}}),
    ("prod-swedencentral", {"webui": {"maxReplicas": 40}}),
]


@pytest.mark.parametrize("stack,overrides", CASES, ids=[f"{s}-{o['webui']}" for s, o in CASES])
def test_the_refusal_adds_up_as_it_says(stack, overrides):
    with pytest.raises(ConfigError) as caught:
        parse_config(stack_raw(stack, overrides), "p", stack)
    found = REFUSAL.search(str(caught.value))
    assert found, str(caught.value)
    n = {k: int(v) for k, v in found.groupdict().items() if k != "noun"}
    assert found["noun"] == ("replica" if n["running"] == 1 else "replicas")
    assert n["old"] == 2 * n["running"]
    assert n["total"] == (n["running"] + n["old"]) * n["per_pod"] + n["jobs"] + n["admin"] > n["admits"]
