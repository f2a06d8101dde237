"""`python -m offline.bench_plan` (`make bench`; docs/performance.md): a stack that is none and a count of runs
that measures nothing are refused in a line, not ended in a traceback."""
import sys

import pytest

from offline import bench_plan


def test_a_stack_without_a_stack_file_is_named_with_the_stacks_there_are(monkeypatch, capsys):
    """A valid name without Pulumi.<stack>.yaml passed the name check and went to the recording program, whose failure
    (`check=True`) ended the tool in a CalledProcessError traceback."""
    monkeypatch.setattr(sys, "argv", ["bench_plan", "--stack", "nosuchstack"])
    assert bench_plan.main() == 2
    err = capsys.readouterr().err
    assert "no stack file" in err and "Pulumi.nosuchstack.yaml" in err and "stacks: " in err and "prod" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("runs", ["0", "-1", "two"])
def test_runs_below_one_are_refused_as_usage(monkeypatch, capsys, runs):
    """`--runs 0` timed no run and ended in `min() arg is an empty sequence` after the recording run."""
    monkeypatch.setattr(sys, "argv", ["bench_plan", "--stack", "dev", "--runs", runs])
    with pytest.raises(SystemExit) as usage:
        bench_plan.main()
    assert usage.value.code == 2
    assert f"argument --runs: {runs!r} must be a whole number of at least 1" in capsys.readouterr().err
