"""What a stranger adopting llmplatform 0.41.0 on their own AKS cluster met (round eleven, 2026-12-07): the program
of docs/components/own-cluster.md as a team copies and edits it (its handle with and without
`drain_timeout_minutes`, a longer request timeout), run under the package's testing kit as the README tells a
consumer (docs/decisions.md, "A stranger on their own cluster, round eleven"). The round's earlier file of this
name, test_stranger11_consumer.py, holds another round's tests."""
import re

import pytest

from llmplatform import ComponentInputError
from llmplatform.inference_specs import interceptor_grace_seconds
from llmplatform.testing import ProgramError, run
from llmplatform.upgrades import drain_minutes_for

from tests.components.test_own_cluster import OWN_CLUSTER_PAGE, as_program, invokes, page_program

DRAIN_LINE = re.compile(r'\n    "drain_timeout_minutes": \d+,[^\n]*')
HANDLE_END = '    "pool_names": ["system", "apps"],\n'


def with_drain(minutes: object) -> str:
    """The page's program, its handle's drain timeout set to `minutes` (in place of the page's own, if any)."""
    code = DRAIN_LINE.sub("", page_program())
    return code.replace(HANDLE_END, f'{HANDLE_END}    "drain_timeout_minutes": {minutes!r},\n')


def drain_row() -> str:
    return next(line for line in OWN_CLUSTER_PAGE.read_text().splitlines()
                if line.startswith("| `drain_timeout_minutes`"))


@pytest.mark.parametrize("minutes", [0, -3, 1441, 5000])
def test_a_hand_built_handles_drain_outside_what_aks_takes_is_refused_naming_it(minutes):
    """Before: 1441 and 5000 planned (a regular GPU pool would send them; AKS takes 1-1440), and 0 or -3 were read
    as a drain Observability's defaults outlast: `lower request_timeout_seconds to at most -1230`."""
    with pytest.raises((ProgramError, ComponentInputError),
                       match=rf"cluster\.drain_timeout_minutes: {minutes} is invalid; allowed: a whole number from 1 "
                             r"to 1440, your pools' upgradeSettings\.drainTimeoutInMinutes"):
        run(as_program(with_drain(minutes)), invokes=invokes())


def test_the_pages_handle_carries_the_drain_the_components_defaults_need():
    """The page's program gave no drain timeout, so nothing judged the components' graces against the cluster's
    drains (AKS's 30 minutes, while the KEDA interceptor's pods take 1830 s to stop by default); a team writing its
    pools' true 30 met a refusal of Observability's defaults asking for 'the AksCluster drain_timeout_minutes=36',
    a component it does not have. The page now carries the figure in its program and names it in the field's row."""
    needed = drain_minutes_for(interceptor_grace_seconds(600, 1200))
    assert f'"drain_timeout_minutes": {needed},' in page_program()
    assert f"the components' defaults need {needed}" in drain_row()
    run(as_program(page_program()), invokes=invokes())
    with pytest.raises((ProgramError, ComponentInputError), match=r"Observability obs: input request_timeout_seconds"
                                                                  r"=600 is invalid.*cluster\.drain_timeout_minutes"):
        run(as_program(with_drain(needed - 6)), invokes=invokes())
