"""What a stranger adopting llmplatform 0.41.0 on their own AKS cluster met (round eleven, 2026-12-07): the program
of docs/components/own-cluster.md as a team copies and edits it (its handle with and without
`drain_timeout_minutes`, a longer request timeout), run under the package's testing kit as the README tells a
consumer (docs/decisions.md, "A stranger on their own cluster, round eleven"). The round's earlier file of this
name, test_stranger11_consumer.py, holds another round's tests."""
import gc
import re
import warnings

import pytest

from llmplatform import ComponentInputError
from llmplatform.defaults import DEFAULTS
from llmplatform.testing import ProgramError, run

from tests.components.test_own_cluster import OWN_CLUSTER_PAGE, as_program, invokes, managed_cluster, page_program

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
    needed = DEFAULTS["AksCluster"]["drain_timeout_minutes"]  # what AksCluster gives a cluster of the defaults
    assert f'"drain_timeout_minutes": {needed},' in page_program()
    assert f"the components' defaults need {needed}" in drain_row()
    run(as_program(page_program()), invokes=invokes())
    with pytest.raises((ProgramError, ComponentInputError), match=r"Observability obs: input request_timeout_seconds"
                                                                  r"=600 is invalid.*cluster\.drain_timeout_minutes.*"
                                                                  r"give the AksCluster drain_timeout_minutes=36 .*; "
                                                                  r"on a cluster of your own, 36 as your pools' "
                                                                  r"drainTimeoutInMinutes and as its handle's"):
        run(as_program(with_drain(needed - 7)), invokes=invokes())


def gate_waits(seconds: int, autoscaler_seconds: int | None = None) -> str:
    """The page's program with the stack's answers allowed `seconds` (and its ModelAutoscaler's route, if given), on
    a cluster whose drains wait 90 minutes."""
    code = with_drain(90).replace('"accelerator": "gpu", "keda": obs.keda}',
                                  f'"accelerator": "gpu", "keda": obs.keda, "request_timeout_seconds": {seconds}}}')
    if autoscaler_seconds is not None:
        code = code.replace('"keda": obs.keda}, in_cluster)',
                            f'"keda": obs.keda, "request_timeout_seconds": {autoscaler_seconds}}}, in_cluster)')
    assert code.count('"request_timeout_seconds"') == (1 if autoscaler_seconds is None else 2)
    return code


def test_a_gate_that_waits_longer_than_the_kedas_interceptor_is_named():
    """Before: an InferenceStack given request_timeout_seconds 1800 beside a ModelAutoscaler left at its 600 planned
    without a word; its gate waited 3000 s (the answer and the cold start) for what the interceptor cut at 1800 s
    (the route's timeouts.request; an answer's headers at 600 s, its responseHeader). Round eleven named it in
    `plan.warnings`; now the keda handle carries Observability's figures and the stack is refused before anything
    registers, with or without the autoscaler's 1800 (the interceptor's drain, 600 + 1200 s, still cut those answers
    when one of its pods stopped: docs/decisions.md, "The answer's timeouts travel with the handles")."""
    for program in (gate_waits(1800), gate_waits(1800, autoscaler_seconds=1800)):
        with pytest.raises((ProgramError, ComponentInputError),
                           match=r"InferenceStack \S+: input request_timeout_seconds=1800 is invalid; allowed: at most "
                                 r"600: with keda the gate waits .*give Observability request_timeout_seconds=1800"):
            run(as_program(program), invokes=invokes())


def test_a_late_refusal_leaves_no_coroutine_unawaited():
    """A handle field read from the cluster (an output) is checked once it resolves; the refusal failed every value
    taken from it alone (`handles.value_alone`), whose known and secret flags were coroutines made up front and never
    awaited once the value failed: after the refusal, each left `RuntimeWarning: coroutine 'Output.is_known' was
    never awaited` in the consumer's pytest run."""
    late = with_drain(5000).replace('"drain_timeout_minutes": 5000,',
                                    '"drain_timeout_minutes": aks.kubernetes_version.apply(lambda _: 5000),')
    with warnings.catch_warnings():  # what earlier tests of this process left: their warnings are not this run's
        warnings.simplefilter("ignore")
        gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ProgramError, match=r"cluster\.drain_timeout_minutes: 5000 is invalid"):
            run(as_program(late), invokes=invokes())
        gc.collect()
    assert not [w.message for w in caught if "never awaited" in str(w.message)]


@pytest.mark.parametrize("zones", [["1", "4"], ["1", "1"], ["zone1"]])
def test_a_hand_built_handles_zones_azure_does_not_have_are_refused_naming_them(zones):
    """Before: planned, the GPU pool in those zones (the handle's, as it names none), which AKS refuses."""
    code = re.sub(r'\n    "zones": [^\n]*', f'\n    "zones": {zones!r},', with_drain(DEFAULTS["AksCluster"]["drain_timeout_minutes"]))
    assert f'"zones": {zones!r},' in code
    with pytest.raises((ProgramError, ComponentInputError),
                       match=r"cluster\.zones: \[.*\] is invalid; allowed: each of 1, 2, 3 once"):
        run(as_program(code), invokes=invokes())


def test_the_pools_zones_read_from_the_cluster_are_checked_once_they_resolve():
    pools = [{**pool, "availabilityZones": ["1", "4"]} for pool in managed_cluster()["agentPoolProfiles"]]
    with pytest.raises(ProgramError, match=r"cluster\.zones: \['1', '4'\] is invalid; allowed: each of 1, 2, 3 once"):
        run(as_program(page_program()), invokes=invokes(agentPoolProfiles=pools))
