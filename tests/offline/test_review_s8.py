"""A review of the day-2 changes merged from h-stranger8: the per-region checks through a port-forward, a region
whose ESC environment sets `edge.fleet`, and the UI home check on a renamed regional stack."""
from __future__ import annotations

import re

from tests.conftest import PROJECT_DIR

OPERATIONS = (PROJECT_DIR / "docs" / "operations.md").read_text()
REGIONAL_FORWARD = re.compile(r"KUBECONFIG=~/\.kube/\S+ kubectl -n \S+ port-forward svc/\S+ \d+:\d+ &")


def test_each_regional_port_forward_is_ended_before_the_next_region_s():
    """The rotation's per-region check and llm-verify of a region behind the edge start `kubectl port-forward ...
    8080:8080 &` with that region's kubeconfig and left it running. For the next region the new forward cannot
    listen on 8080 (kubectl exits: address already in use), and `llm-smoke http://localhost:8080` reaches the first
    region's gate, which accepts the same global key set: the second region "passes" unchecked. Each forward keeps
    its PID and is killed after its check, before another one."""
    forwards = list(REGIONAL_FORWARD.finditer(OPERATIONS))
    assert len(forwards) >= 2, [m.group(0) for m in forwards]
    for m, following in zip(forwards, forwards[1:] + [None]):
        after = OPERATIONS[m.end():following.start() if following else m.end() + 2000]
        assert after.startswith(" PF=$!"), m.group(0)  # its PID, whatever runs in the background after it
        assert "kill $PF" in after[:1200], (m.group(0), after[:1200])

